"""Print template.yaml after the SAM transform, as CloudFormation JSON.

    .tools/sam/bin/python local/samtemplate/transform.py template.yaml > .aws-sam/transformed.json

Offline and without AWS credentials: the transform runs with SAM's own
translator (samtranslator, from the SAM CLI venv) for a fixed region and a
fake account, CodeUri pointing at a fake S3 object (as `sam validate` does),
and a managed-policy map that fails on any lookup: the template uses inline
policy statements only, so a managed policy name needing the IAM API is an
error here rather than a silent network call. `make template-check` runs
cfn-lint on the output, which catches what linting the SAM source misses (a
!Ref or !GetAtt to a missing resource inside a policy, an event that
generates an invalid resource).
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from boto3.session import Session  # noqa: E402
from samcli.yamlhelper import yaml_parse  # noqa: E402
from samtranslator.parser.parser import Parser  # noqa: E402
from samtranslator.public.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.translator import Translator  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"


class NoManagedPolicies:
    def load(self):
        raise SystemExit("transform: a managed policy name needs the IAM API; use inline statements or ARNs")


def main(path):
    with open(path) as f:
        template = yaml_parse(f.read())
    for res in template.get("Resources", {}).values():
        if res.get("Type") == "AWS::Serverless::Function":
            res.setdefault("Properties", {})["CodeUri"] = "s3://transform-bucket/" + res["Properties"].get("CodeUri", "code").strip("/")
    params = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::StackName": "cpor-claims",
              "AWS::URLSuffix": "amazonaws.com"}
    translator = Translator(None, Parser(), plugins=[], boto_session=Session(region_name=REGION))
    try:
        out = translator.translate(template, parameter_values=params, get_managed_policy_map=NoManagedPolicies().load)
    except InvalidDocumentException as e:
        for cause in e.causes:
            print("transform:", cause.message, file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
