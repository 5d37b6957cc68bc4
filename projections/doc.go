// Package projections keeps the read models: Kafka-consuming projectors (a
// Watermill router, one handler and one consumer group per read model) that
// maintain PostgreSQL tables, and the queries over them.
//
// Every event is applied in one PostgreSQL transaction together with its
// de-duplication record, the last position applied per (projection,
// partition key): a campaign's events arrive in position order on one Kafka
// partition, so an event at or below that position is a redelivery. The read
// models hold masked names and phones only.
//
// Rebuild replays the event store into fresh tables and swaps them in while
// queries and the projectors go on (rebuild.go explains how); Status says
// how far each projection has got.
package projections
