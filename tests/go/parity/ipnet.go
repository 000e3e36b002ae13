// The IP-network ops of the parity run (tests/parity.rs; gonet's side is
// tests/parity_ipnet/mod.rs), registered in datagramOps beside the datagram ones:
//
//	parse_cidr     ADDRESS is a CIDR string: net.ParseCIDR's IP (local_addr), network
//	               (addr, addr_network), mask and size (remote_addr: "MASK ONES/BITS")
//	cidr_contains  ADDRESS is "CIDR|IP,IP,...": the network's Contains for each IP
//	               (net.ParseIP; "nil" for one that does not parse), in from
//	parse_ip       ADDRESS is an IP: net.ParseIP(ADDRESS).String() in addr
package main

import (
	"fmt"
	"net"
	"strings"
)

func init() {
	datagramOps["parse_cidr"] = doParseCIDR
	datagramOps["cidr_contains"] = doCIDRContains
	datagramOps["parse_ip"] = doParseIP
}

func doParseCIDR(r *result) {
	ip, n, err := net.ParseCIDR(r.Address)
	if err != nil {
		r.Err = err.Error()
		return
	}
	r.OK = true
	r.Addr = n.String()
	r.AddrNorm = r.Addr
	r.AddrNetwork = n.Network()
	r.LocalAddr = ip.String()
	r.LocalAddrNorm = r.LocalAddr
	ones, bits := n.Mask.Size()
	r.RemoteAddr = fmt.Sprintf("%s %d/%d", n.Mask, ones, bits)
}

func doCIDRContains(r *result) {
	cidr, ips, _ := strings.Cut(r.Address, "|")
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		r.Err = err.Error()
		return
	}
	r.OK = true
	var got []string
	for _, s := range strings.Split(ips, ",") {
		ip := net.ParseIP(s)
		if ip == nil {
			got = append(got, "nil")
			continue
		}
		got = append(got, fmt.Sprint(n.Contains(ip)))
	}
	r.From = strings.Join(got, ",")
}

func doParseIP(r *result) {
	ip := net.ParseIP(r.Address)
	if ip == nil {
		r.Err = "nil"
		return
	}
	r.OK = true
	r.Addr = ip.String()
	r.AddrNorm = r.Addr
}
