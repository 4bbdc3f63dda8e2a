//! Usage produced live at a steady rate by one long-lived producer, as a
//! gateway produces it: every 10 ms the next 1/100 of a second's records
//! (creating a client per burst would add its own start-up to every latency).

use std::time::{Duration, Instant};

use bursar::decode::key_hint;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};


/// Produces `lines` to `topic` at `per_second`, keyed like `bursar gen --topic`.
pub fn produce_at_rate(bootstrap: &str, topic: &str, lines: &[String], per_second: usize) {
    // Not idempotent, and with the topic's metadata fetched first: the first
    // records must not wait for the producer's own start-up (a producer id,
    // the partition leaders), which would count as bursar's latency.
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "1")
        .set("linger.ms", "2")
        .set("partitioner", "murmur2_random")
        .create()
        .expect("live producer");
    let _ = producer.client().fetch_metadata(Some(topic), Duration::from_secs(10));
    let per_tick = (per_second / 100).max(1);
    let t = Instant::now();
    for (i, chunk) in lines.chunks(per_tick).enumerate() {
        for line in chunk {
            let key = key_hint(line.as_bytes());
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).payload(line.as_bytes());
            match &key {
                Some(k) => record = record.key(k.as_bytes()),
                None => record = record.partition(0),
            }
            while let Err((_, r)) = producer.send(record) {
                record = r;
                producer.poll(Duration::from_millis(1));
            }
        }
        producer.poll(Duration::ZERO);
        if let Some(wait) = Duration::from_millis(10 * (i as u64 + 1)).checked_sub(t.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    let _ = producer.flush(Duration::from_secs(30));
}
