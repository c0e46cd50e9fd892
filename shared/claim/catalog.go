package claim

import (
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

// Product is one entry of the product catalog.
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
	if err := json.Unmarshal(catalogJSON, &catalog); err != nil {
		panic(fmt.Sprintf("catalog.json: %v", err))
	}
	catalogByID = make(map[string]Product, len(catalog))
	for _, p := range catalog {
		catalogByID[p.ID] = p
	}
}

// Catalog returns every product, in a stable order.
func Catalog() []Product { return append([]Product(nil), catalog...) }

// LookupProduct finds a product by id.
func LookupProduct(id string) (Product, bool) {
	p, ok := catalogByID[id]
	return p, ok
}
