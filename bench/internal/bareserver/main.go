// Command bareserver is the baseline of `go run ./bench`: net/http
// answering one route with a fixed body, and nothing else. It prints the
// address it listens on as the first line of its standard output and
// serves until it is killed.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	method := flag.String("method", "GET", "the method it answers")
	path := flag.String("path", "/", "the path it answers")
	contentType := flag.String("content-type", "application/json", "the Content-Type of the answer")
	bodyFile := flag.String("body", "", "a file holding the body of the answer")
	flag.Parse()
	if err := serve(*method, *path, *contentType, *bodyFile); err != nil {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
}

func serve(method, path, contentType, bodyFile string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Println(ln.Addr())
	return http.Serve(ln, mux)
}
