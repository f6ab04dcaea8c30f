//! The warning sound (the agent's `warning_sound`, off by default): a short chime with each
//! warning banner, two notes for the first warning and three for the last. It is played in the
//! background by a real player so the windows never wait; a workstation with no sound at all
//! only logs why.
//!
//! On Linux the chime is a WAV file made here (no sound file to install) and played by the
//! first of `pw-play` (PipeWire), `paplay` (PulseAudio) and `aplay` (ALSA) that works, each
//! killed after [`PLAYER_TIMEOUT`]. On Windows it is the system's exclamation sound.

use std::time::Duration;

/// A player that hangs (a sound server that does not answer) is killed after this.
pub const PLAYER_TIMEOUT: Duration = Duration::from_secs(5);

const RATE: u32 = 22_050;
const NOTE: Duration = Duration::from_millis(180);
const GAP: Duration = Duration::from_millis(90);
/// A5 then E6: a rising interval reads as "attention", not as an error.
const TONES: [f32; 2] = [880.0, 1318.5];

/// Plays the chime in the background: `critical` for the last warning.
pub fn play(critical: bool) {
    let spawned = std::thread::Builder::new()
        .name("chime".to_owned())
        .spawn(move || match platform::play(critical) {
            Ok(player) => tracing::info!(player, critical, "warning sound played"),
            Err(why) => tracing::warn!(%why, "no warning sound"),
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "no warning sound: no thread");
    }
}

/// The chime as a 16-bit mono PCM WAV file: `notes` notes with a short fade at each end (no
/// click), alternating between the two tones.
pub fn chime_wav(notes: usize) -> Vec<u8> {
    let per_note = samples(NOTE);
    let per_gap = samples(GAP);
    let mut pcm: Vec<i16> = Vec::with_capacity(notes * (per_note + per_gap));
    let fade = per_note / 10;
    for note in 0..notes {
        let frequency = TONES[note % TONES.len()];
        for i in 0..per_note {
            let envelope = (i.min(per_note - 1 - i) as f32 / fade as f32).min(1.0);
            let phase = 2.0 * std::f32::consts::PI * frequency * i as f32 / RATE as f32;
            // Rounded into range by construction: |sin × envelope × 0.6| ≤ 0.6.
            #[allow(clippy::cast_possible_truncation)]
            pcm.push((phase.sin() * envelope * 0.6 * f32::from(i16::MAX)) as i16);
        }
        if note + 1 < notes {
            pcm.extend(std::iter::repeat_n(0, per_gap));
        }
    }
    let data_len = u32::try_from(pcm.len() * 2).unwrap_or(u32::MAX);
    let mut wav = Vec::with_capacity(44 + pcm.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for sample in pcm {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

fn samples(length: Duration) -> usize {
    // A few thousand samples: no truncation.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (length.as_secs_f64() * f64::from(RATE)) as usize;
    n
}

#[cfg(unix)]
mod platform {
    use std::path::PathBuf;

    use poste_desktop::Environment;

    use super::{PLAYER_TIMEOUT, chime_wav};

    /// Tried in this order: the sound servers first (they mix with what else plays), ALSA last.
    const PLAYERS: [(&str, &[&str]); 3] = [("pw-play", &[]), ("paplay", &[]), ("aplay", &["-q"])];

    pub fn play(critical: bool) -> Result<&'static str, String> {
        let file = write_chime(critical)?;
        let env = Environment::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        );
        let path = file.to_string_lossy().into_owned();
        let mut failures = Vec::new();
        for (player, options) in PLAYERS {
            if env.resolve(player).is_none() {
                continue;
            }
            let mut args = options.to_vec();
            args.push(&path);
            match poste_desktop::output_within(&env, player, &args, PLAYER_TIMEOUT) {
                Ok(_) => return Ok(player),
                Err(why) => failures.push(why),
            }
        }
        if failures.is_empty() {
            Err("none of pw-play, paplay, aplay on PATH".to_owned())
        } else {
            Err(failures.join("; "))
        }
    }

    /// The chime in the session's runtime directory (private to the visitor), written again
    /// each time: cheap, and never a stale or half-written file from an earlier run.
    fn write_chime(critical: bool) -> Result<PathBuf, String> {
        let dir = std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|d| !d.is_empty())
            .map_or_else(std::env::temp_dir, PathBuf::from);
        let notes = if critical { 3 } else { 2 };
        let path = dir.join(format!("poste-kiosk-chime-{notes}.wav"));
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, chime_wav(notes))
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

#[cfg(windows)]
#[allow(unsafe_code)] // the Windows API; the block says why it is sound
mod platform {
    use windows::Win32::Media::Audio::{PlaySoundW, SND_ALIAS, SND_NODEFAULT, SND_SYNC};
    use windows::core::w;

    pub fn play(critical: bool) -> Result<&'static str, String> {
        let alias = if critical {
            w!("SystemHand")
        } else {
            w!("SystemExclamation")
        };
        // SAFETY: a static wide string naming a registry sound alias; no module handle.
        let played = unsafe { PlaySoundW(alias, None, SND_ALIAS | SND_NODEFAULT | SND_SYNC) };
        if played.as_bool() {
            Ok("PlaySound")
        } else {
            Err("PlaySound failed (no sound device, or the sound is off)".to_owned())
        }
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    pub fn play(_critical: bool) -> Result<&'static str, String> {
        Err("no sound player on this system".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(wav: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([wav[at], wav[at + 1], wav[at + 2], wav[at + 3]])
    }

    #[test]
    fn the_chime_is_a_well_formed_pcm_wav_of_its_length() {
        for notes in [2, 3] {
            let wav = chime_wav(notes);
            assert_eq!(&wav[0..4], b"RIFF");
            assert_eq!(&wav[8..16], b"WAVEfmt ");
            assert_eq!(u32_at(&wav, 4) as usize, wav.len() - 8, "RIFF size");
            assert_eq!(u32_at(&wav, 24), RATE);
            assert_eq!(&wav[36..40], b"data");
            let data = u32_at(&wav, 40) as usize;
            assert_eq!(data, wav.len() - 44, "data size");
            let secs = data as f64 / 2.0 / f64::from(RATE);
            let want = notes as f64 * NOTE.as_secs_f64() + (notes - 1) as f64 * GAP.as_secs_f64();
            assert!((secs - want).abs() < 0.001, "{secs} s, want {want}");
        }
    }

    #[test]
    fn the_chime_is_audible_but_not_clipped_and_starts_and_ends_silent() {
        let wav = chime_wav(2);
        let pcm: Vec<i16> = wav[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 15_000 && peak < 20_000, "peak {peak}");
        assert!(pcm[0].unsigned_abs() < 100 && pcm[pcm.len() - 1].unsigned_abs() < 1_000);
    }
}
