//! Wake-on-LAN packets on the network: the magic packet of `poste_proto::wol`, sent over UDP to the
//! configured broadcast address (`[power] wake_address`).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::UdpSocket;

use poste_proto::wol::Mac;

/// Copies of each packet: UDP may drop one, and a card that misses it stays off.
const COPIES: usize = 3;

/// Sends magic packets to one address.
#[derive(Debug, Clone, Copy)]
pub struct WakeSender {
    target: SocketAddr,
}

impl WakeSender {
    pub fn new(target: SocketAddr) -> WakeSender {
        WakeSender { target }
    }

    /// Sends the packet that wakes `mac`, a few times.
    pub async fn wake(&self, mac: Mac) -> std::io::Result<()> {
        let local: SocketAddr = if self.target.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.set_broadcast(true)?;
        let packet = mac.magic_packet();
        for _ in 0..COPIES {
            socket.send_to(&packet, self.target).await?;
        }
        Ok(())
    }
}
