//! Mapping a 200-column file with 200 sample rows, after start-up:
//! `cargo bench -p modernize-mapping --bench suggest`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use modernize_mapping::Engine;
use serde_json::{Map, Value};

/// 200 headers: an RVTools vInfo tab's worth of real columns, then home-grown ones.
fn wide_file() -> (Vec<String>, Vec<Map<String, Value>>) {
    let real = [
        "VM",
        "Powerstate",
        "Template",
        "DNS Name",
        "CPUs",
        "Memory",
        "NICs",
        "Disks",
        "Total disk capacity MiB",
        "Provisioned MiB",
        "In Use MiB",
        "Primary IP Address",
        "Datacenter",
        "Cluster",
        "Host",
        "OS according to the configuration file",
        "OS according to the VMware Tools",
        "Annotation",
        "VM UUID",
    ];
    let generic = [
        "Owner",
        "App Name",
        "Environment",
        "Criticality",
        "Tech Stack",
        "Wave",
        "Cost Center",
        "Backup Policy",
        "Patch Group",
        "Support Team",
        "Disk",
        "Notes",
    ];
    let mut headers: Vec<String> = real.iter().map(|h| (*h).to_owned()).collect();
    for i in 0.. {
        if headers.len() == 200 {
            break;
        }
        headers.push(format!("{} {}", generic[i % generic.len()], i / generic.len() + 1));
    }
    let samples = (0..200)
        .map(|row| {
            headers
                .iter()
                .enumerate()
                .map(|(col, h)| {
                    let value = match col % 4 {
                        0 => format!("host-{row:03}.corp.example.com"),
                        1 => format!("10.{}.{}.{}", col % 250, row / 250, row % 250),
                        2 => format!("{}", (row + 1) * 1024),
                        _ => format!("value {row} of {h}"),
                    };
                    (h.clone(), Value::String(value))
                })
                .collect()
        })
        .collect();
    (headers, samples)
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new();
    let (headers, samples) = wide_file();
    c.bench_function("map 200 columns x 200 sample rows", |b| {
        b.iter(|| engine.map(black_box(&headers), black_box(&samples), &[]))
    });
    c.bench_function("map 200 columns, headers only", |b| b.iter(|| engine.map(black_box(&headers), &[], &[])));
}

criterion_group!(benches, bench);
criterion_main!(benches);
