//! Waking the workstations of this one's space on the server's behalf (protocol 4, `wake`): a
//! server on another network than the workstations cannot reach them with a broadcast, this
//! agent can. The magic packets go to `wake_address` (this network's broadcast, UDP 9).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use poste_proto::WakeRelay;
use poste_proto::wol::Mac;
use tokio::net::UdpSocket;

/// Copies of each packet: UDP may drop one, and a card that misses it stays off.
const COPIES: usize = 3;

/// What a relay did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    /// Entries that are not MAC addresses, or past [`WakeRelay::MAX_ADDRESSES`].
    pub skipped: usize,
}

/// Sends the magic packet of every valid address of `relay` to `target`.
pub async fn relay(target: SocketAddr, relay: &WakeRelay) -> std::io::Result<Relayed> {
    let macs: Vec<Mac> = relay
        .mac
        .iter()
        .take(WakeRelay::MAX_ADDRESSES)
        .filter_map(|text| Mac::parse(text))
        .collect();
    let mut done = Relayed {
        sent: 0,
        skipped: relay.mac.len() - macs.len(),
    };
    if macs.is_empty() {
        return Ok(done);
    }
    let local: SocketAddr = if target.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.set_broadcast(true)?;
    for mac in macs {
        let packet = mac.magic_packet();
        for _ in 0..COPIES {
            socket.send_to(&packet, target).await?;
        }
        done.sent += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn valid_addresses_are_woken_and_the_others_skipped() {
        let listener = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap();
        let relay = WakeRelay {
            mac: vec![
                "52:54:00:12:34:56".to_owned(),
                "pas une adresse".to_owned(),
                "ff:ff:ff:ff:ff:ff".to_owned(),
            ],
        };
        let done = super::relay(target, &relay).await.unwrap();
        assert_eq!(
            done,
            Relayed {
                sent: 1,
                skipped: 2
            }
        );
        let mut packet = [0u8; 200];
        let (len, _) = listener.recv_from(&mut packet).await.unwrap();
        let expected = Mac::parse("52:54:00:12:34:56").unwrap().magic_packet();
        assert_eq!(&packet[..len], &expected[..]);
    }
}
