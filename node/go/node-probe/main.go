// Command node-probe is the node tests' workload, in their busybox image:
//
//	node-probe serve :8080       HTTP server answering "<hostname> <path>" (and /healthz)
//	node-probe get URL [tries]   GET URL (resolving names through /etc/resolv.conf), print the body
//	node-probe hog MiB           allocate and touch MiB of memory, then sleep
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: node-probe serve ADDR | get URL [TRIES] | hog MIB")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2])
	case "get":
		tries := 1
		if len(os.Args) > 3 {
			tries, _ = strconv.Atoi(os.Args[3])
		}
		os.Exit(get(os.Args[2], tries))
	case "hog":
		mib, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "hog: not a number:", os.Args[2])
			os.Exit(2)
		}
		hog(mib)
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

func serve(addr string) {
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", host, r.URL.Path)
	})
	fmt.Println("serving on", addr)
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func get(url string, tries int) int {
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for i := 0; i < tries; i++ {
		if i > 0 {
			time.Sleep(time.Second)
		}
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			last = fmt.Errorf("status %d, %v", resp.StatusCode, err)
			continue
		}
		os.Stdout.Write(body)
		return 0
	}
	fmt.Fprintln(os.Stderr, "get", url, "failed:", last)
	return 1
}

func hog(mib int) {
	var chunks [][]byte
	for i := 0; i < mib; i++ {
		chunk := make([]byte, 1<<20)
		for j := range chunk {
			chunk[j] = byte(j)
		}
		chunks = append(chunks, chunk)
		if i%16 == 0 {
			fmt.Println("allocated MiB:", i+1)
		}
	}
	fmt.Println("allocated MiB:", mib, "- holding")
	time.Sleep(time.Hour)
	_ = chunks
}
