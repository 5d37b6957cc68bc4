// Package layout holds the tests that check DESIGN's "Layout and
// dependency direction" where depguard cannot: which package runs SQL on
// which table. It has no code of its own.
package layout
