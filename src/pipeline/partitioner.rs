//! Kafka's default partitioner for keyed records (docs/semantics.md): murmur2 of the
//! key bytes as the Java client and librdkafka's `murmur2_random` compute it,
//! made positive with `& 0x7fffffff`, modulo the partition count. File replay
//! uses it so that `replay --partitions N` equals a live run over a topic of N
//! partitions produced with the default partitioner.

/// The Java client's `Utils.murmur2` (seed `0x9747b28c`).
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition of a record: `(murmur2(key) & 0x7fffffff) % partitions`; a
/// record without a key (or a non-positive partition count) goes to 0.
pub fn partition_for(key: Option<&[u8]>, partitions: i32) -> i32 {
    match key {
        Some(k) if partitions > 0 => (murmur2(k) & 0x7fff_ffff) % partitions,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_the_kafka_java_client_test_vectors() {
        // From Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973_932_308);
        assert_eq!(murmur2(b"foobar"), -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
        assert_eq!(murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58_897_971);
        assert_eq!(murmur2(b"abc"), 479_470_107);
    }

    #[test]
    fn partitions_are_positive_hashes_modulo_the_count() {
        assert_eq!(partition_for(Some(b"21"), 1), 0);
        assert_eq!(partition_for(Some(b"foobar"), 4), ((-790_332_482i32) & 0x7fff_ffff) % 4);
        for n in 1..20 {
            let p = partition_for(Some(b"key_7f3a"), n);
            assert!((0..n).contains(&p));
        }
    }

    #[test]
    fn a_record_without_key_goes_to_partition_zero() {
        assert_eq!(partition_for(None, 8), 0);
        assert_eq!(partition_for(Some(b"x"), 0), 0);
        assert_eq!(partition_for(Some(b"x"), -3), 0);
    }
}
