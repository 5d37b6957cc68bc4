package eventstore

// The store's own SQLSTATEs, raised by its SQL (see the migrations) and
// told apart through internal/pgerr like the server's.
const (
	codeClosed       = "ES001" // the stream is closed (the campaign's draw was committed)
	codeWrongVersion = "ES002" // the stream is not at the expected version
)
