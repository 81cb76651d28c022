package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/thread"
)

// MaxGETBytes bounds the query string of a GET request: a query of MaxQueryBytes, escaped, with a few
// variables. Only queries travel by GET; comments are posted.
const MaxGETBytes = 2*MaxQueryBytes + 8<<10

// httpTransport is GraphQL over HTTP: queries over GET, any operation over POST with a JSON body. It replaces
// gqlgen's GET and POST transports so that every refusal goes through the error presenter (and so carries an
// extensions.code), a mutation over GET is 405 as the specification asks, and a request that fails before
// execution follows the specification's SHOULDs: 200 for application/json, 400 for
// application/graphql-response+json, and no data entry.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodPost {
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return mediaType == mediaJSON
	}
	return r.Method == http.MethodGet
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	refuse := func(status int, message string) {
		w.WriteHeader(status)
		writeRequestError(w, exec.DispatchError(ctx, gqlerror.List{{Message: message, Err: thread.Errorf(thread.CodeInvalid, "%s", message)}}))
	}

	start := graphql.Now()
	params := &graphql.RawParams{Headers: r.Header}
	if r.Method == http.MethodGet {
		if len(r.URL.RawQuery) > MaxGETBytes {
			refuse(http.StatusRequestURITooLong, fmt.Sprintf("the query string is longer than the limit of %d bytes; send long requests with POST", MaxGETBytes))
			return
		}
		q := r.URL.Query()
		params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
		for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
			if raw := q.Get(name); raw != "" {
				if err := checkJSONShape(raw); err != nil {
					refuse(http.StatusBadRequest, "the "+name+" parameter "+err.Error())
					return
				}
				if err := decodeJSON(strings.NewReader(raw), into); err != nil {
					refuse(http.StatusBadRequest, "the "+name+" parameter is not a JSON object")
					return
				}
			}
		}
	} else if body, err := readBody(r); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, "the request body is larger than the server accepts")
			return
		}
		refuse(http.StatusBadRequest, "the request body "+err.Error())
		return
	} else if err := decodeJSON(bytes.NewReader(body), params); err != nil {
		refuse(http.StatusBadRequest, "the request body is not a GraphQL request in JSON: "+err.Error())
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	op, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if contentType == mediaGraphQLResponse && errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		writeRequestError(w, exec.DispatchError(graphql.WithOperationContext(ctx, op), errs))
		return
	}
	if r.Method == http.MethodGet && op.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		refuse(http.StatusMethodNotAllowed, "only queries may be sent with GET; send "+string(op.Operation.Operation)+"s with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, op)
	writeResult(w, responses(ctx))
}

// boundedSSE is gqlgen's Server-Sent Events transport behind the checks httpTransport makes of a body: one
// that is not JSON, or is shaped beyond what a request needs, is refused here, with a code; gqlgen's would
// decode it whole, then echo it into its answer and into the server's log.
type boundedSSE struct{ transport.SSE }

func (t boundedSSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := readBody(r)
	if err == nil && !json.Valid(body) {
		err = errors.New("is not JSON")
	}
	if err != nil {
		status := http.StatusBadRequest
		if errors.As(err, new(*http.MaxBytesError)) {
			status = http.StatusRequestEntityTooLarge
		}
		message := "the request body " + err.Error()
		w.Header().Set("Content-Type", mediaJSON)
		w.WriteHeader(status)
		writeRequestError(w, exec.DispatchError(r.Context(), gqlerror.List{{Message: message, Err: thread.Errorf(thread.CodeInvalid, "%s", message)}}))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	t.SSE.Do(w, r, exec)
}

// writeResult writes an execution result. The data is already JSON, written by the executor: it goes out as it
// is, where json.Marshal would parse and compact it again (a tenth of a large page's cost).
func writeResult(w http.ResponseWriter, resp *graphql.Response) {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		writeJSON(w, resp) // incremental delivery: rare, and not worth a second writer
		return
	}
	b := make([]byte, 0, len(resp.Data)+64)
	b = append(b, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			writeJSON(w, resp)
			return
		}
		b = append(append(append(b, `"errors":`...), errs...), ',')
	}
	b = append(b, `"data":`...)
	if len(resp.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, resp.Data...)
	}
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			writeJSON(w, resp)
			return
		}
		b = append(append(b, `,"extensions":`...), ext...)
	}
	_, _ = w.Write(append(b, '}'))
}

// readBody reads a request body (its size is bounded by the server's body limit) and checks its shape.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("could not be read: %w", err)
	}
	if err := checkJSONShape(body); err != nil {
		return nil, err
	}
	return body, nil
}

// Bounds on a request's JSON before it is decoded: encoding/json allocates for every value, ten times the
// bytes for a long list of small ones, before jsonLimits can count them. These are looser than jsonLimits'.
const (
	maxJSONValues = 2 * (MaxVariableValues + MaxExtensionValues)
	maxJSONDepth  = MaxVariableDepth + 4
)

// checkJSONShape refuses JSON text with more values or deeper nesting than a request needs, counting its
// brackets and commas without decoding it.
func checkJSONShape[T string | []byte](text T) error {
	values, depth, nesting := 0, 0, 0
	inString, escaped := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			values++
			nesting++
			depth = max(depth, nesting)
		case '}', ']':
			nesting--
		case ',':
			values++
		}
	}
	switch {
	case depth > maxJSONDepth:
		return fmt.Errorf("is nested deeper than %d", maxJSONDepth)
	case values > maxJSONValues:
		return fmt.Errorf("holds more than %d values", maxJSONValues)
	}
	return nil
}

func decodeJSON(r io.Reader, into any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(into)
}

// The response media types of GraphQL over HTTP.
const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// responseContentType picks the first media type of the Accept header that Threadline can answer with;
// application/json when there is none.
func responseContentType(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			return mediaJSON
		}
	}
	return mediaJSON
}

// writeRequestError writes the response to a request that failed before execution: errors, and no data entry.
func writeRequestError(w http.ResponseWriter, resp *graphql.Response) {
	writeJSON(w, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	_, _ = w.Write(b)
}
