package claim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
)

// Association units: a Microsoft 365 workload is associated as a whole per
// tenant; a Business Applications product per subscription.
const (
	UnitWorkload     = "workload"
	UnitSubscription = "subscription"
)

// Product is one entry of the product catalog (GET /products).
type Product struct {
	ID              string       `json:"id"`
	Name            string       `json:"name"`
	SolutionArea    SolutionArea `json:"solutionArea"`
	AssociationUnit string       `json:"associationUnit"`
	Dynamics365     bool         `json:"dynamics365"`
}

//go:embed catalog.json
var catalogJSON []byte

var (
	catalog     []Product
	catalogByID map[string]Product
)

func init() {
	products, err := parseCatalog(catalogJSON)
	if err != nil {
		panic(fmt.Sprintf("catalog.json: %v", err))
	}
	catalog = products
	catalogByID = make(map[string]Product, len(products))
	for _, p := range products {
		catalogByID[p.ID] = p
	}
}

// parseCatalog decodes a catalog strictly (no unknown fields, nothing after
// the list) and checks it with checkCatalog.
func parseCatalog(data []byte) ([]Product, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var products []Product
	if err := dec.Decode(&products); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the product list")
	}
	return products, checkCatalog(products)
}

// checkCatalog enforces the catalog's invariants: unique kebab-case ids,
// names, known solution areas, Microsoft 365 products associated per
// workload, Business Applications products per subscription, and the
// Dynamics 365 flag only on Business Applications products.
func checkCatalog(products []Product) error {
	if len(products) == 0 {
		return fmt.Errorf("no products")
	}
	seen := make(map[string]bool, len(products))
	for i, p := range products {
		if err := checkProduct(p); err != nil {
			return fmt.Errorf("product %d (%q): %w", i, p.ID, err)
		}
		if seen[p.ID] {
			return fmt.Errorf("product %d: duplicate id %q", i, p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

func checkProduct(p Product) error {
	switch {
	case !isKebab(p.ID):
		return fmt.Errorf("id must be lowercase kebab-case")
	case p.Name == "" || ValidateText("name", p.Name, MaxName, false) != nil:
		return fmt.Errorf("name must be a non-empty single line")
	case p.SolutionArea == Microsoft365 && p.AssociationUnit != UnitWorkload:
		return fmt.Errorf("a Microsoft 365 product is associated per workload")
	case p.SolutionArea == BusinessApplications && p.AssociationUnit != UnitSubscription:
		return fmt.Errorf("a Business Applications product is associated per subscription")
	case p.SolutionArea != Microsoft365 && p.SolutionArea != BusinessApplications:
		return fmt.Errorf("unknown solution area %q", p.SolutionArea)
	case p.Dynamics365 && p.SolutionArea != BusinessApplications:
		return fmt.Errorf("only Business Applications products are Dynamics 365 products")
	}
	return nil
}

// isKebab reports whether s is lowercase letters and digits in words joined
// by single hyphens ("dynamics-365-sales").
func isKebab(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// Catalog returns every product, in the stable order of catalog.json
// (Microsoft 365 workloads first, then Business Applications). The slice is
// the caller's own copy.
func Catalog() []Product { return append([]Product(nil), catalog...) }

// LookupProduct finds a product by its exact id.
func LookupProduct(id string) (Product, bool) {
	p, ok := catalogByID[id]
	return p, ok
}
