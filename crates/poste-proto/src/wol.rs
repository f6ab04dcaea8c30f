//! Wake-on-LAN: a workstation's MAC address as the agent reports it, and the magic packet that
//! wakes it (six `0xFF` bytes, then the address sixteen times).

/// A MAC address, parsed from `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac([u8; 6]);

/// Length of a magic packet.
pub const PACKET_LEN: usize = 6 + 16 * 6;

impl Mac {
    /// `None` for anything but six hexadecimal pairs, and for the all-zero and broadcast
    /// addresses (no network card has them: a packet for them would wake nothing or all).
    pub fn parse(text: &str) -> Option<Mac> {
        let text = text.trim();
        let separator = if text.contains('-') { '-' } else { ':' };
        let mut bytes = [0u8; 6];
        let mut parts = text.split(separator);
        for byte in &mut bytes {
            let part = parts.next()?;
            // (`from_str_radix` alone would take "+2".)
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            *byte = u8::from_str_radix(part, 16).ok()?;
        }
        if parts.next().is_some() || bytes == [0; 6] || bytes == [0xFF; 6] {
            return None;
        }
        Some(Mac(bytes))
    }

    /// The magic packet for this address.
    pub fn magic_packet(self) -> [u8; PACKET_LEN] {
        let mut packet = [0xFF; PACKET_LEN];
        for chunk in packet[6..].chunks_exact_mut(6) {
            chunk.copy_from_slice(&self.0);
        }
        packet
    }
}

impl std::fmt::Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_notations_in_any_case_and_nothing_else() {
        let mac = Mac([0x52, 0x54, 0x00, 0xAB, 0xcd, 0x01]);
        assert_eq!(Mac::parse("52:54:00:ab:cd:01"), Some(mac));
        assert_eq!(Mac::parse(" 52-54-00-AB-CD-01 "), Some(mac));
        assert_eq!(mac.to_string(), "52:54:00:ab:cd:01");
        for wrong in [
            "",
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:01:02",
            "52:54:00:ab:cd:1",
            "52:54:00:ab:cd:0g",
            "52:54-00:ab:cd:01",
            "525400abcd01",
            "00:00:00:00:00:00",
            "ff:ff:ff:ff:ff:ff",
            "+2:54:00:ab:cd:01",
        ] {
            assert_eq!(Mac::parse(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn the_packet_is_six_ff_then_the_address_sixteen_times() {
        let mac = Mac::parse("52:54:00:ab:cd:01").unwrap();
        let packet = mac.magic_packet();
        assert_eq!(packet.len(), 102);
        assert_eq!(&packet[..6], &[0xFF; 6]);
        for repeat in packet[6..].chunks(6) {
            assert_eq!(repeat, &[0x52, 0x54, 0x00, 0xAB, 0xCD, 0x01]);
        }
    }
}
