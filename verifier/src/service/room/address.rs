//! The address learners type: this machine's address on the LAN, found by asking the
//! kernel which local address would route to the outside (a UDP "connect" sends
//! nothing). A machine with no route gets 127.0.0.1, and the caller says so.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

/// The first non-loopback IPv4 address of this machine, if it has one.
pub fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    // TEST-NET-1 (RFC 5737): never a real host; only the route is looked up.
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}
