//! `select!` over a framed reader and a timer loses no bytes: the frame
//! future is cancel-safe (a partial frame stays in the reader), so a timer
//! branch that wins in the middle of a frame costs nothing.

mod support;

use brisk::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use brisk::net::{TcpListener, TcpStream};
use brisk::time::sleep;
use std::time::Duration;
use support::{runtimes, within};

const FRAMES: usize = 4_000;

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn frame(i: usize, rng: &mut Rng) -> String {
    let len = 1 + rng.below(120) as usize;
    let body: String = (0..len)
        .map(|k| char::from(b'a' + ((i + k) % 26) as u8))
        .collect();
    format!("{i}:{body}")
}

#[test]
fn select_loop_over_frames_and_a_random_timer_loses_no_bytes() {
    for (name, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();

                // The writer sends every frame in random pieces with random
                // pauses, so frames often arrive split across reads.
                let writer = brisk::spawn(async move {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
                    let mut out = TcpStream::connect(addr).await.unwrap();
                    out.set_nodelay(true).unwrap();
                    let mut sent = Vec::with_capacity(FRAMES);
                    for i in 0..FRAMES {
                        let f = frame(i, &mut rng);
                        let bytes = format!("{f}\n").into_bytes();
                        let cut = rng.below(bytes.len() as u64) as usize;
                        out.write_all(&bytes[..cut]).await.unwrap();
                        if rng.below(4) == 0 {
                            out.flush().await.unwrap();
                            sleep(Duration::from_micros(rng.below(1_500))).await;
                        }
                        out.write_all(&bytes[cut..]).await.unwrap();
                        sent.push(f);
                    }
                    out.close().await.unwrap();
                    sent
                });

                let (stream, _) = listener.accept().await.unwrap();
                let mut lines = BufReader::new(stream).lines();
                let mut rng = Rng(0xD1B5_4A32_D192_ED03);
                let mut got = Vec::with_capacity(FRAMES);
                let mut timer_wins = 0usize;
                let mut iterations = 0usize;
                loop {
                    iterations += 1;
                    let pause = Duration::from_micros(rng.below(1_000));
                    brisk::select! {
                        line = lines.next_line() => match line.unwrap() {
                            Some(l) => got.push(l),
                            None => break,
                        },
                        _ = sleep(pause) => timer_wins += 1,
                    }
                }
                let sent = writer.await.unwrap();
                assert_eq!(got.len(), sent.len(), "{name}: frames lost or invented");
                for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
                    assert_eq!(g, s, "{name}: frame {i} differs");
                }
                assert!(iterations > FRAMES, "{name}: the loop ran {iterations} times");
                assert!(
                    timer_wins > 50,
                    "{name}: the timer won only {timer_wins} times; the test did not interrupt reads"
                );
            })
        });
    }
}
