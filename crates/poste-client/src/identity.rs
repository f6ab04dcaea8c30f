//! Who this workstation is: its name, and the IP and MAC address it reaches the server with.

use std::net::IpAddr;

/// The host name (Linux: the kernel's; Windows: `COMPUTERNAME`), or `poste` if unknown.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "poste".to_owned())
}

/// The MAC address of the interface holding `ip` (the local address of the connection to the
/// server, so exactly the interface used to reach it), as `aa:bb:cc:dd:ee:ff`.
pub fn mac_for(ip: IpAddr) -> Option<String> {
    netdev::get_interfaces().into_iter().find_map(|interface| {
        let holds_ip = match ip {
            IpAddr::V4(v4) => interface.ipv4.iter().any(|net| net.addr() == v4),
            IpAddr::V6(v6) => interface.ipv6.iter().any(|net| net.addr() == v6),
        };
        let mac = interface.mac_addr?;
        (holds_ip && mac.octets() != [0; 6]).then(|| mac.to_string().to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_has_a_name_and_loopback_has_no_mac() {
        assert!(!hostname().is_empty());
        assert_eq!(
            mac_for(
                "127.0.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            ),
            None
        );
    }
}
