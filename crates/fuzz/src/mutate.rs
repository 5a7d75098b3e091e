//! Byte mutations of a seed, driven by the fuzzer's input, and a small deterministic
//! generator for the smoke run.
//!
//! A fuzzer mutates its input bytes; reading them as a list of operations on a *valid*
//! seed (a log segment, an export) reaches the decoder's deep paths far more often than
//! random files do, which almost always fail at the first header check.

/// A xorshift64* generator: deterministic, seeded, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (a zero seed is replaced, since xorshift stays at zero).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// Fewer than `bound` random bytes (how many, at random too).
    pub fn bytes_below(&mut self, bound: u64) -> Vec<u8> {
        let len = self.below(bound) as usize;
        self.bytes(len)
    }
}

/// Bytes per encoded operation: kind, a 24-bit place, a 16-bit argument, 16 more bits.
pub const OP_LEN: usize = 8;

/// A mutated buffer never grows beyond this, so that no input makes a target slow by
/// size alone.
pub const MAX_MUTATED_LEN: usize = 256 * 1024;

/// The mutations, as encoded in an operation's first byte (modulo their number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// XOR one byte with a non-zero value.
    Flip,
    /// Set one byte.
    Set,
    /// Zero a range of up to 8 KiB.
    Zero,
    /// Cut the buffer.
    Truncate,
    /// Append up to 4 KiB of zeros or random bytes.
    Append,
    /// Copy a range of the buffer over another place (a record spliced into another).
    Splice,
}

const OPS: [Op; 6] = [Op::Flip, Op::Set, Op::Zero, Op::Truncate, Op::Append, Op::Splice];

/// Encodes one operation (for the smoke run's generated inputs and committed seeds).
pub fn encode(op: Op, at: u32, arg: u16, extra: u16) -> [u8; OP_LEN] {
    let kind = OPS.iter().position(|candidate| *candidate == op).unwrap_or(0) as u8;
    let at = at.to_be_bytes();
    let arg = arg.to_be_bytes();
    let extra = extra.to_be_bytes();
    [kind, at[1], at[2], at[3], arg[0], arg[1], extra[0], extra[1]]
}

/// Applies the operations encoded in `ops` (whole [`OP_LEN`]-byte groups; a shorter rest
/// is ignored) to a copy of `seed`. Places are taken modulo the current length, so every
/// operation does something.
pub fn apply(seed: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut buffer = seed.to_vec();
    for op in ops.chunks_exact(OP_LEN) {
        let kind = OPS[usize::from(op[0]) % OPS.len()];
        let at = u32::from_be_bytes([0, op[1], op[2], op[3]]) as usize;
        let arg = u16::from_be_bytes([op[4], op[5]]);
        let extra = u16::from_be_bytes([op[6], op[7]]);
        let len = buffer.len();
        match kind {
            Op::Flip if len > 0 => buffer[at % len] ^= (arg as u8).max(1),
            Op::Set if len > 0 => buffer[at % len] = arg as u8,
            Op::Zero if len > 0 => {
                let start = at % len;
                let end = (start + usize::from(arg % 8192) + 1).min(len);
                buffer[start..end].fill(0);
            }
            Op::Truncate => buffer.truncate(at % (len + 1)),
            Op::Append => {
                let count = usize::from(arg % 4096) + 1;
                if extra % 2 == 0 {
                    buffer.resize(len + count, 0);
                } else {
                    buffer.extend(XorShift::new(u64::from(extra)).bytes(count));
                }
            }
            Op::Splice if len > 0 => {
                let from = at % len;
                let count = (usize::from(arg % 4096) + 1).min(len - from);
                let to = usize::from(extra) * len / 65_536;
                let piece = buffer[from..from + count].to_vec();
                if buffer.len() < to + count {
                    buffer.resize(to + count, 0);
                }
                buffer[to..to + count].copy_from_slice(&piece);
            }
            _ => {}
        }
        buffer.truncate(MAX_MUTATED_LEN);
    }
    buffer
}

/// `count` random operations for a buffer of about `len` bytes, mostly small ones (one
/// changed byte is the case the log must always report), for the smoke run.
pub fn random_ops(rng: &mut XorShift, len: usize, count: usize) -> Vec<u8> {
    let mut ops = Vec::with_capacity(count * OP_LEN);
    for _ in 0..count {
        let op = OPS[rng.below(OPS.len() as u64) as usize];
        // Places concentrated at the end half of the time: where records end and where
        // recovery decides.
        let at = if rng.below(2) == 0 {
            rng.below(len as u64 + 1)
        } else {
            (len as u64).saturating_sub(rng.below(256))
        };
        let arg = match op {
            Op::Zero | Op::Append | Op::Splice => rng.below(64) as u16,
            _ => rng.next_u64() as u16,
        };
        ops.extend(encode(op, at as u32, arg, rng.next_u64() as u16));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_do_what_they_say() {
        let seed = [1u8, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(apply(&seed, &encode(Op::Flip, 0, 0xff, 0))[0], 0xfe);
        assert_eq!(apply(&seed, &encode(Op::Set, 9, 7, 0))[1], 7);
        assert_eq!(apply(&seed, &encode(Op::Zero, 2, 1, 0)), [1, 2, 0, 0, 5, 6, 7, 8]);
        assert_eq!(apply(&seed, &encode(Op::Truncate, 3, 0, 0)), [1, 2, 3]);
        assert_eq!(apply(&seed, &encode(Op::Append, 0, 1, 0)).len(), 10);
        assert_eq!(apply(&seed, &encode(Op::Splice, 0, 1, 0x8000))[4..6], [1, 2]);
    }

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        assert_eq!(a.bytes(32), b.bytes(32));
        assert!(XorShift::new(0).next_u64() != 0);
    }
}
