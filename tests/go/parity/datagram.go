// Datagram, resolve and typed-call rows for the parity program (main.go runs them):
//
//	go run tests/go/parity/main.go tests/go/parity/datagram.go < tests/go/parity/inputs.tsv
//
// Ops (ADDRESS "L|R" gives two addresses; an empty L is a nil laddr):
//   - listen_packet NET ADDR: net.ListenPacket, printed like listen.
//   - resolve_tcp / resolve_udp / resolve_unix NET ADDR: net.Resolve*Addr: the address
//     (String(), Network()) or the bare error.
//   - listen_tcp / listen_udp NET ADDR: net.ListenTCP / ListenUDP with ADDR resolved on
//     "tcp" / "udp" (so that any family can be given to any network); "nil" is nil.
//   - listen_unix / listen_unixgram NET ADDR: net.ListenUnix / ListenUnixgram with
//     &UnixAddr{ADDR, NET}.
//   - dial_tcp / dial_udp / dial_unix NET L|R: net.DialTCP / DialUDP / DialUnix, printed
//     like dial (L, R resolved on "tcp" / "udp"; Unix addresses are &UnixAddr{x, NET},
//     and an empty Unix L is nil, as gonet's Option).
//   - read_timeout NET ADDR: ListenPacket, a read deadline 20 ms away, ReadFrom.
//   - write_to NET L|TO: ListenPacket(NET, L), then WriteTo(TO): TO is a UDP address, or
//     "unix:NAME" (a unixgram UnixAddr), "unix-stream:NAME" (a "unix" one), "tcp:ADDR".
//   - refused NET ADDR: Dial, Write, Read (a closed UDP port answers with ICMP).
//   - refused_unix NET ADDR: a unixgram socket at ADDR, Dial it, close it, Write.
//   - write_connected NET ADDR: Dial, then WriteTo the dialed address.
//   - closed_ops NET ADDR: ListenPacket, Close, then ReadFrom, WriteTo, Close,
//     SetReadDeadline, SetReadBuffer: their errors joined by " | ".
//   - closed_conn NET ADDR: Dial, Close, then Read, Write, Close, SetWriteBuffer.
//   - sender NET ADDR|HOST: ListenPacket(NET, ADDR), Dial "udp" HOST:port, Write, and
//     print the sender ReadFrom reports.
//   - unbound_sender NET ADDR: a unixgram socket at ADDR, Dial it unbound, Write; print
//     the sender ReadFrom reports and the error of WriteTo back to it.
//
// In errors and senders the socket's own address prints as LOCAL and the dialed
// conn's local address as CLIENT.
package main

import (
	"net"
	"strings"
	"time"
)

var datagramOps = map[string]func(*result){
	"listen_packet":   doListenPacket,
	"resolve_tcp":     doResolve,
	"resolve_udp":     doResolve,
	"resolve_unix":    doResolve,
	"listen_tcp":      doTypedListen,
	"listen_udp":      doTypedListen,
	"listen_unix":     doTypedListen,
	"listen_unixgram": doTypedListen,
	"dial_tcp":        doTypedDial,
	"dial_udp":        doTypedDial,
	"dial_unix":       doTypedDial,
	"read_timeout":    doReadTimeout,
	"write_to":        doWriteTo,
	"refused":         doRefused,
	"refused_unix":    doRefusedUnix,
	"write_connected": doWriteConnected,
	"closed_ops":      doClosedOps,
	"closed_conn":     doClosedConn,
	"sender":          doSender,
	"unbound_sender":  doUnboundSender,
}

// local replaces an address by LOCAL in s (and, if given, another by CLIENT).
func local(s string, addrs ...net.Addr) string {
	for i, a := range addrs {
		if a == nil || a.String() == "" {
			continue
		}
		name := "LOCAL"
		if i == 1 {
			name = "CLIENT"
		}
		s = strings.ReplaceAll(s, a.String(), name)
	}
	return s
}

func split2(address string) (string, string) {
	l, r, _ := strings.Cut(address, "|")
	return substitute(l), substitute(r)
}

func doListenPacket(r *result) {
	pc, err := net.ListenPacket(r.Network, substitute(r.Address))
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	defer pc.Close()
	r.OK = true
	setAddr(r, r.Address, pc.LocalAddr())
}

func setAddr(r *result, address string, a net.Addr) {
	r.Addr = normalise(r.Address, a.String())
	r.AddrNorm = kernelChosen(r.Network, address, r.Addr)
	r.AddrNetwork = a.Network()
}

func doResolve(r *result) {
	var a net.Addr
	var err error
	address := substitute(r.Address)
	switch r.Op {
	case "resolve_tcp":
		a, err = net.ResolveTCPAddr(r.Network, address)
	case "resolve_udp":
		a, err = net.ResolveUDPAddr(r.Network, address)
	default:
		a, err = net.ResolveUnixAddr(r.Network, address)
	}
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	r.OK = true
	setAddr(r, r.Address, a)
}

// typedAddr resolves a typed call's address: "nil" is nil, and so is "" for TCP and
// UDP (a Unix address may have an empty name).
func typedAddr(op, network, address string) (net.Addr, error) {
	if address == "nil" {
		return nil, nil
	}
	switch {
	case strings.HasSuffix(op, "_tcp"):
		if address == "" {
			return nil, nil
		}
		return net.ResolveTCPAddr("tcp", address)
	case strings.HasSuffix(op, "_udp"):
		if address == "" {
			return nil, nil
		}
		return net.ResolveUDPAddr("udp", address)
	default:
		return &net.UnixAddr{Name: address, Net: network}, nil
	}
}

func doTypedListen(r *result) {
	la, err := typedAddr(r.Op, r.Network, substitute(r.Address))
	if err != nil {
		r.Err = "resolve: " + err.Error()
		return
	}
	var a net.Addr
	var closer interface{ Close() error }
	switch r.Op {
	case "listen_tcp":
		t, _ := la.(*net.TCPAddr)
		var ln *net.TCPListener
		if ln, err = net.ListenTCP(r.Network, t); err == nil {
			a, closer = ln.Addr(), ln
		}
	case "listen_udp":
		u, _ := la.(*net.UDPAddr)
		var c *net.UDPConn
		if c, err = net.ListenUDP(r.Network, u); err == nil {
			a, closer = c.LocalAddr(), c
		}
	case "listen_unix":
		u, _ := la.(*net.UnixAddr)
		var ln *net.UnixListener
		if ln, err = net.ListenUnix(r.Network, u); err == nil {
			a, closer = ln.Addr(), ln
		}
	default:
		u, _ := la.(*net.UnixAddr)
		var c *net.UnixConn
		if c, err = net.ListenUnixgram(r.Network, u); err == nil {
			a, closer = c.LocalAddr(), c
		}
	}
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	defer closer.Close()
	r.OK = true
	kernelAddress := r.Address
	if kernelAddress == "nil" {
		kernelAddress = ""
	}
	setAddr(r, kernelAddress, a)
}

func doTypedDial(r *result) {
	l, ra := split2(r.Address)
	la, err := typedAddr(r.Op, r.Network, l)
	if err != nil {
		r.Err = "resolve: " + err.Error()
		return
	}
	var c net.Conn
	switch r.Op {
	case "dial_tcp":
		rt, err2 := net.ResolveTCPAddr("tcp", ra)
		if err2 != nil {
			r.Err = "resolve: " + err2.Error()
			return
		}
		t, _ := la.(*net.TCPAddr)
		var tc *net.TCPConn
		if tc, err = net.DialTCP(r.Network, t, rt); err == nil {
			c = tc
		}
	case "dial_udp":
		ru, err2 := net.ResolveUDPAddr("udp", ra)
		if err2 != nil {
			r.Err = "resolve: " + err2.Error()
			return
		}
		u, _ := la.(*net.UDPAddr)
		var uc *net.UDPConn
		if uc, err = net.DialUDP(r.Network, u, ru); err == nil {
			c = uc
		}
	default:
		var u *net.UnixAddr
		if l != "" {
			u = la.(*net.UnixAddr)
		}
		var uc *net.UnixConn
		if uc, err = net.DialUnix(r.Network, u, &net.UnixAddr{Name: ra, Net: r.Network}); err == nil {
			c = uc
		}
	}
	if err != nil {
		r.Err = normalise(r.Address, err.Error())
		return
	}
	defer c.Close()
	setDialed(r, c)
}

func setDialed(r *result, c net.Conn) {
	r.OK = true
	r.LocalNetwork = c.LocalAddr().Network()
	r.LocalAddr = c.LocalAddr().String()
	r.LocalAddrNorm = trailPort.ReplaceAllString(r.LocalAddr, ":PORT")
	r.RemoteAddr = normalise(r.Address, c.RemoteAddr().String())
}

func doReadTimeout(r *result) {
	pc, err := net.ListenPacket(r.Network, substitute(r.Address))
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	defer pc.Close()
	pc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, _, err = pc.ReadFrom(make([]byte, 16))
	r.Err = local(errText(err), pc.LocalAddr())
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// target makes write_to's TO address.
func target(to string) (net.Addr, error) {
	switch {
	case strings.HasPrefix(to, "unix:"):
		return &net.UnixAddr{Name: to[len("unix:"):], Net: "unixgram"}, nil
	case strings.HasPrefix(to, "unix-stream:"):
		return &net.UnixAddr{Name: to[len("unix-stream:"):], Net: "unix"}, nil
	case strings.HasPrefix(to, "tcp:"):
		return net.ResolveTCPAddr("tcp", to[len("tcp:"):])
	default:
		return net.ResolveUDPAddr("udp", to)
	}
}

func doWriteTo(r *result) {
	l, to := split2(r.Address)
	pc, err := net.ListenPacket(r.Network, l)
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	defer pc.Close()
	a, err := target(to)
	if err != nil {
		r.Err = "resolve: " + err.Error()
		return
	}
	_, err = pc.WriteTo([]byte("x"), a)
	r.OK = err == nil
	if err != nil {
		r.Err = normalise(r.Address, local(err.Error(), pc.LocalAddr()))
	}
}

func doRefused(r *result) {
	c, err := net.DialTimeout(r.Network, substitute(r.Address), 2*time.Second)
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte("anyone?")); err != nil {
		r.Err = "write: " + err.Error()
		return
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 16))
	r.Err = normalise(r.Address, local(errText(err), nil, c.LocalAddr()))
}

func doRefusedUnix(r *result) {
	address := substitute(r.Address)
	pc, err := net.ListenPacket(r.Network, address)
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	c, err := net.Dial(r.Network, address)
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	defer c.Close()
	pc.Close()
	_, err = c.Write([]byte("gone?"))
	r.Err = normalise(r.Address, errText(err))
}

func doWriteConnected(r *result) {
	c, err := net.DialTimeout(r.Network, substitute(r.Address), 2*time.Second)
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	defer c.Close()
	_, err = c.(net.PacketConn).WriteTo([]byte("x"), c.RemoteAddr())
	r.Err = normalise(r.Address, local(errText(err), nil, c.LocalAddr()))
}

func doClosedOps(r *result) {
	pc, err := net.ListenPacket(r.Network, substitute(r.Address))
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	la := pc.LocalAddr()
	pc.Close()
	var errs []string
	_, _, err = pc.ReadFrom(make([]byte, 4))
	errs = append(errs, errText(err))
	_, err = pc.WriteTo([]byte("x"), la)
	errs = append(errs, errText(err))
	errs = append(errs, errText(pc.Close()))
	errs = append(errs, errText(pc.SetReadDeadline(time.Now())))
	err = pc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(1 << 16)
	errs = append(errs, errText(err))
	r.Err = local(strings.Join(errs, " | "), la)
}

func doClosedConn(r *result) {
	c, err := net.DialTimeout(r.Network, substitute(r.Address), 2*time.Second)
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	c.Close()
	var errs []string
	_, err = c.Read(make([]byte, 4))
	errs = append(errs, errText(err))
	_, err = c.Write([]byte("x"))
	errs = append(errs, errText(err))
	errs = append(errs, errText(c.Close()))
	err = c.(interface{ SetWriteBuffer(int) error }).SetWriteBuffer(1 << 16)
	errs = append(errs, errText(err))
	r.Err = normalise(r.Address, local(strings.Join(errs, " | "), nil, c.LocalAddr()))
}

func doSender(r *result) {
	l, host := split2(r.Address)
	pc, err := net.ListenPacket(r.Network, l)
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	defer pc.Close()
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	c, err := net.Dial("udp", net.JoinHostPort(strings.Trim(host, "[]"), port))
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	defer c.Close()
	c.Write([]byte("who?"))
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, from, err := pc.ReadFrom(make([]byte, 16))
	if err != nil {
		r.Err = local(err.Error(), pc.LocalAddr())
		return
	}
	r.OK = true
	r.From = local(from.String(), nil, c.LocalAddr()) + " " + from.Network()
}

func doUnboundSender(r *result) {
	address := substitute(r.Address)
	pc, err := net.ListenPacket(r.Network, address)
	if err != nil {
		r.Err = "listen: " + err.Error()
		return
	}
	defer pc.Close()
	c, err := net.Dial(r.Network, address)
	if err != nil {
		r.Err = "dial: " + err.Error()
		return
	}
	defer c.Close()
	c.Write([]byte("who?"))
	_, from, err := pc.ReadFrom(make([]byte, 16))
	if err != nil {
		r.Err = local(err.Error(), pc.LocalAddr())
		return
	}
	r.OK = true
	if from == nil {
		r.From = "<nil>"
	} else {
		r.From = from.String()
	}
	_, err = pc.WriteTo([]byte("back"), from)
	r.Err = normalise(r.Address, errText(err))
}
