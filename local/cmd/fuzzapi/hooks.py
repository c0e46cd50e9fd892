"""Schemathesis hooks of the fuzzing run (local/cmd/fuzzapi).

Which MPN IDs a caller may claim for is its token's `mpn_ids` claim, not
something a schema can say: a generated body's `mpnId` in the document's
format (1 to 10 digits) becomes the fuzzer's token's MPN ID (the sample
partner admin's, FUZZ_MPN_ID). A generated value in any other form is left
as it is, so the format rule is still fuzzed.
"""
import os
import re

import schemathesis

MPN_ID = os.environ.get("FUZZ_MPN_ID", "1234567")
FORMAT = re.compile(r"\s*[0-9]{1,10}\s*")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # Before every request of every phase (coverage cases are not drawn
    # through the generation hooks).
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("mpnId"), str) and FORMAT.fullmatch(body["mpnId"]):
        body["mpnId"] = MPN_ID
