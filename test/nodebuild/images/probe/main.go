// Command probe is the real-node tests' network probe, a static stand-in for agnhost's netexec
// and connect:
//
//	probe serve --tcp 80,8080 --udp 53     answer every TCP connection and UDP datagram with "ok <name>"
//	probe check [--timeout 1s] tcp:10.88.0.5:80 udp:10.88.0.6:53 ...
//	                                       one JSON line per target: {"target":..,"ok":..,"error":..}
//	probe sleep                            wait for SIGTERM (a long-lived client to exec into)
//
// A check succeeds only when the server's "ok" answer arrives, so a reachable port with nothing
// behind it, an ICMP reject (kube-router's answer to blocked traffic) and a silent drop all fail.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "check":
		check(os.Args[2:])
	case "sleep":
		waitForSignal()
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: probe serve --tcp P,.. --udp P,.. | probe check [--timeout D] proto:host:port... | probe sleep")
	os.Exit(2)
}

func waitForSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	os.Exit(0)
}

func ports(list string) []int {
	var out []int
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad port %q\n", p)
			os.Exit(2)
		}
		out = append(out, n)
	}
	return out
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	tcp := fs.String("tcp", "", "comma-separated TCP ports")
	udp := fs.String("udp", "", "comma-separated UDP ports")
	_ = fs.Parse(args)
	name, _ := os.Hostname()
	answer := []byte("ok " + name + "\n")
	for _, p := range ports(*tcp) {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					continue
				}
				_, _ = conn.Write(answer)
				_ = conn.Close()
			}
		}()
	}
	for _, p := range ports(*udp) {
		pc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				_, addr, err := pc.ReadFrom(buf)
				if err != nil {
					continue
				}
				_, _ = pc.WriteTo(answer, addr)
			}
		}()
	}
	fmt.Printf("serving tcp [%s] udp [%s]\n", *tcp, *udp)
	waitForSignal()
}

type result struct {
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Answer string `json:"answer,omitempty"`
	Error  string `json:"error,omitempty"`
}

func check(args []string) {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Second, "per-target timeout")
	_ = fs.Parse(args)
	results := make([]result, len(fs.Args()))
	var wg sync.WaitGroup
	for i, target := range fs.Args() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = probeOne(target, *timeout)
		}()
	}
	wg.Wait()
	enc := json.NewEncoder(os.Stdout)
	for _, r := range results {
		_ = enc.Encode(r)
	}
}

func probeOne(target string, timeout time.Duration) result {
	r := result{Target: target}
	proto, addr, found := strings.Cut(target, ":")
	if !found || (proto != "tcp" && proto != "udp") {
		r.Error = "target must be tcp:host:port or udp:host:port"
		return r
	}
	conn, err := net.DialTimeout(proto, addr, timeout)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if proto == "udp" {
		if _, err := conn.Write([]byte("ping\n")); err != nil {
			r.Error = err.Error()
			return r
		}
	}
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	answer := strings.TrimSpace(string(buf[:n]))
	if strings.HasPrefix(answer, "ok") {
		r.OK, r.Answer = true, answer
		return r
	}
	if err != nil {
		r.Error = err.Error()
	} else {
		r.Error = fmt.Sprintf("unexpected answer %q", answer)
	}
	return r
}
