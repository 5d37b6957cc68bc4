// Package projections keeps the read models — participants, winners, draw
// log, analytics, campaigns — and the queries over them.
//
// Each read model is defined once, by a readModel (model_*.go): load reads
// the rows a batch of events touches, fold applies each event in memory
// (no I/O), flush writes the changed rows. The live projector (projector.go)
// runs it on a batch of Kafka messages in one durable transaction, with the
// positions of the batch's partition keys locked: a campaign's events arrive
// in position order, so an event at or below its key's position is a
// redelivery and changes nothing. A rebuild (rebuild.go) runs the same code
// over the event store, writing new rows with COPY into shadow tables.
//
// The Router runs, per read model, one consumer group through our own
// Subscriber (subscriber.go: many messages in flight per partition, the
// highest contiguous ack committed) and acks a batch once it committed.
// Personal data: the read models hold masked names and phones only, as the
// relay published them (privacy masks them, the registrations' and the
// draw's winners'); the projectors open and mask nothing and need no
// PII_KEY. A rebuild reads the store through RebuildOptions.Publicize, the
// relay's own privacy code, so live and rebuilt rows agree.
package projections
