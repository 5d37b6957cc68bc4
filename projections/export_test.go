package projections

// RouterDecodes is how many messages r decoded, for every read model.
func RouterDecodes(r *Router) int64 { return r.decoded.decodes.Load() }
