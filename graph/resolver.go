// Package graph is Threadline's GraphQL API: gqlgen's generated executor, thin resolvers that decode IDs and
// arguments, call the thread service and encode the results, and the per-request dataloaders that keep a page
// of comments to a constant number of queries.
package graph

import "github.com/threadline/threadline/thread"

// Resolver is the root resolver; per-type resolvers embed it.
type Resolver struct {
	Service *thread.Service
}
