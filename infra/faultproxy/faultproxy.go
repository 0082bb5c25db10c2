// Package faultproxy puts Shopify's toxiproxy, run inside the calling
// process, in front of the local emulators (DynamoDB Local and local-kms
// speak plain HTTP), so that tests and benchmarks can make a dependency
// slow, hang, reset or cut its connections, refuse them, or throttle, and
// then heal it. Point an SDK client at a Proxy's Endpoint instead of the
// emulator's.
//
//	s, err := faultproxy.Start(dynamoDBEndpoint, kmsEndpoint)
//	defer s.Close()
//	cfg.DynamoDBEndpoint, cfg.KMSEndpoint = s.DynamoDB.Endpoint(), s.KMS.Endpoint()
//	err = s.KMS.Add(faultproxy.Latency(5*time.Millisecond, time.Millisecond)) // every KMS call 4-6 ms slower
//	s.DynamoDB.Down()                                                         // connections refused
//	err = s.Heal()
package faultproxy

import (
	"fmt"
	"net/url"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Stack is a proxy in front of each emulator.
type Stack struct {
	DynamoDB *Proxy
	KMS      *Proxy

	server *toxiproxy.ApiServer
	stub   *throttler
}

// Start puts a proxy in front of DynamoDB Local and one in front of
// local-kms, given as base URLs such as "http://127.0.0.1:8000".
func Start(dynamoDBEndpoint, kmsEndpoint string) (*Stack, error) {
	s := &Stack{
		server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()),
		stub:   &throttler{},
	}
	var err error
	if s.DynamoDB, err = s.proxy("dynamodb", dynamoDBEndpoint); err == nil {
		s.KMS, err = s.proxy("kms", kmsEndpoint)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Heal removes every fault from both proxies.
func (s *Stack) Heal() error {
	if err := s.DynamoDB.Heal(); err != nil {
		return err
	}
	return s.KMS.Heal()
}

// Close stops the proxies, cutting their connections.
func (s *Stack) Close() {
	_ = s.server.Collection.Clear()
	s.stub.close()
}

func (s *Stack) proxy(name, endpoint string) (*Proxy, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: %s endpoint %q is not a base URL", name, endpoint)
	}
	p := &Proxy{server: s.server, stub: s.stub, name: name, upstream: u.Host}
	if err := p.start("127.0.0.1:0", u.Host); err != nil {
		return nil, err
	}
	return p, nil
}

// Proxy is one dependency behind toxiproxy. Its methods may be called
// while requests flow through it: a toxic reaches open connections too.
type Proxy struct {
	server   *toxiproxy.ApiServer
	stub     *throttler
	name     string
	upstream string // the emulator's host:port

	mu     sync.Mutex
	listen string           // host:port, fixed once the proxy first listens
	p      *toxiproxy.Proxy // nil while Down
}

// Endpoint is the proxy's base URL, for an SDK client's BaseEndpoint.
func (p *Proxy) Endpoint() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.listen
}

// Add puts a toxic on the proxy's connections, open and new ones, until
// Heal. A proxy holds one toxic of each type per direction.
func (p *Proxy) Add(t Toxic) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil {
		return fmt.Errorf("faultproxy: %s is down", p.name)
	}
	body, err := t.json()
	if err != nil {
		return err
	}
	if _, err := p.p.Toxics.AddToxicJson(body); err != nil {
		return fmt.Errorf("faultproxy: add %s toxic to %s: %w", t.Type, p.name, err)
	}
	return nil
}

// Down closes the proxy's listener and its connections: the dependency is
// gone, and connecting to it is refused, until Heal.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop()
}

// Throttle sends the proxy's connections to an endpoint that answers every
// request as a throttled AWS service does (400 ThrottlingException), until
// Heal. Open connections are cut.
func (p *Proxy) Throttle() error {
	addr, err := p.stub.addr()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop()
	return p.start(p.listen, addr)
}

// Heal removes every fault: open connections are cut, and the proxy
// listens again, on the same port, in front of its emulator.
func (p *Proxy) Heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A fresh toxiproxy proxy rather than removing toxics from the old
	// one: toxiproxy can leave a connection's chain of toxics out of step
	// when toxics are removed while it is open, and a later toxic then
	// panics on it.
	p.stop()
	return p.start(p.listen, p.upstream)
}

// start runs a toxiproxy proxy on listen in front of upstream.
func (p *Proxy) start(listen, upstream string) error {
	tp := toxiproxy.NewProxy(p.server, p.name, listen, upstream)
	if err := p.server.Collection.Add(tp, true); err != nil {
		return fmt.Errorf("faultproxy: start the %s proxy on %s: %w", p.name, listen, err)
	}
	p.p, p.listen = tp, tp.Listen
	return nil
}

// stop stops the running proxy, if any.
func (p *Proxy) stop() {
	if p.p != nil {
		_ = p.server.Collection.Remove(p.name)
		p.p = nil
	}
}
