//! `xp serve` over loopback: every route's answers, bad requests answered with a 4xx
//! and a JSON error, limits, concurrent clients with zero errors, a slow client and
//! an abandoned connection that block nobody, and SIGTERM draining to exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::server::Server;
use common::{trained_export, ALL_OBJECTIVES};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// A tiny trained run with every objective (the server exports it in memory).
fn trained(dir: &Path) -> std::path::PathBuf {
    trained_export(dir, "served", ALL_OBJECTIVES, &["model.layers=2"]).0
}

#[test]
fn the_api_answers_and_refuses_bad_requests_with_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &trained(dir.path()),
        &["--max-names", "3", "--max-body", "2000"],
    );
    let (status, model) = server.send("GET", "/api/model", "", b"");
    assert_eq!(status, 200);
    assert_eq!(model["labels"].as_array().unwrap().len(), 18);
    assert!(
        model["objectives"]["CLS"]["attention"].is_string(),
        "{model}"
    );
    assert_eq!(
        server.send("GET", "/healthz", "", b""),
        (200, Value::String("ok".into()))
    );

    let (status, body) = server.post(
        "/api/classify",
        &json!({"names": ["Nakamura", "Ng"], "k": 2}),
    );
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["name"], "Nakamura");
    let top = results[0]["top"].as_array().unwrap();
    assert_eq!(top.len(), 2);
    assert!(top[0]["probability"].as_f64().unwrap() >= top[1]["probability"].as_f64().unwrap());

    let (status, body) = server.post("/api/fill", &json!({"name": "Na_amura", "k": 3}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["input"], "Na_amura");
    assert_eq!(body["masks"][0].as_array().unwrap().len(), 3);
    assert_eq!(body["filled"].as_str().unwrap().len(), 8);

    let ask = json!({"prefix": "Mc", "count": 4, "temperature": 0.8, "seed": 7});
    let (status, body) = server.post("/api/generate", &ask);
    assert_eq!(status, 200, "{body}");
    let names = body["names"].as_array().unwrap();
    assert_eq!(names.len(), 4);
    assert!(
        names.iter().all(|n| n.as_str().unwrap().starts_with("Mc")),
        "{body}"
    );
    assert_eq!(
        server.post("/api/generate", &ask).1,
        body,
        "the same seed, the same names"
    );

    let (status, body) = server.post("/api/attention", &json!({"name": "Li"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokens"], json!(["[CLS]", "L", "i"]));
    assert_eq!(
        (body["layers"].as_u64(), body["heads"].as_u64()),
        (Some(2), Some(2))
    );
    let row = body["maps"][1][0][0].as_array().unwrap();
    let sum: f64 = row.iter().map(|v| v.as_f64().unwrap()).sum();
    assert!(
        (sum - 1.0).abs() < 1e-4,
        "a row of weights sums to 1: {sum}"
    );

    // Bad requests: a 4xx and a JSON error that says what to change.
    let refused = |status: u16, body: &Value, needle: &str, expected: u16| {
        assert_eq!(status, expected, "{body}");
        let error = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {body}"));
        assert!(error.contains(needle), "expected `{needle}` in: {error}");
    };
    let (s, b) = server.send("POST", "/api/classify", "application/json", b"{not json");
    refused(s, &b, "send a JSON object", 400);
    let (s, b) = server.post("/api/classify", &json!({"nmes": ["a"]}));
    refused(s, &b, "unknown field `nmes`", 422);
    let (s, b) = server.post("/api/classify", &json!({"names": []}));
    refused(s, &b, "give at least one name", 400);
    let (s, b) = server.post("/api/classify", &json!({"names": ["a", "b", "c", "d"]}));
    refused(s, &b, "send at most 3", 400);
    let (s, b) = server.post(
        "/api/classify",
        &json!({"names": ["Nakamura"], "objective": "XYZ"}),
    );
    refused(s, &b, "the model has no objective XYZ", 400);
    let (s, b) = server.post("/api/fill", &json!({"name": "Nakamura"}));
    refused(s, &b, "mark missing characters with _", 400);
    let (s, b) = server.post("/api/generate", &json!({"count": 1000}));
    refused(s, &b, "outside 1..=64", 400);
    let (s, b) = server.post("/api/generate", &json!({"temperature": 0}));
    refused(s, &b, "temperature must be above 0", 422);
    let (s, b) = server.post("/api/attention", &json!({"name": "!!!"}));
    refused(s, &b, "has no token the model reads", 422);
    let (s, b) = server.send("POST", "/api/classify", "text/plain", b"{}");
    refused(s, &b, "Content-Type: application/json", 415);
    // A 10 MB body is refused from its announced length, before it is read.
    let head = "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n";
    let answer = server.raw(head, b"{\"names\": [\"");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let (s, b) = server.send("GET", "/api/nothing", "", b"");
    refused(s, &b, "no such route", 404);
    // A name the model cannot read costs that name only.
    let (status, body) = server.post("/api/classify", &json!({"names": ["Nakamura", "12"]}));
    assert_eq!(status, 200);
    assert!(
        body["results"][1]["error"]
            .as_str()
            .unwrap()
            .contains("no token"),
        "{body}"
    );
    assert!(
        server.stop().success(),
        "SIGTERM ends the server with status 0"
    );
}

/// `clients` threads, each sending `requests` single-name classify requests; the
/// latencies in milliseconds, sorted, and the seconds it took.
fn load(server: &Server, clients: usize, requests: usize) -> (Vec<f64>, f64) {
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let url = format!("{}/api/classify", server.url);
            std::thread::spawn(move || {
                let agent = ureq::Agent::new_with_defaults();
                (0..requests)
                    .map(|i| {
                        let name = ["Nakamura", "Schmidt", "Rossi", "Ng"][(c + i) % 4];
                        let body = json!({ "names": [name] });
                        let sent = Instant::now();
                        let answer = agent
                            .post(&url)
                            .content_type("application/json")
                            .send(body.to_string().as_bytes());
                        assert!(answer.is_ok(), "request failed: {answer:?}");
                        sent.elapsed().as_secs_f64() * 1e3
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    let mut latencies: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    latencies.sort_by(f64::total_cmp);
    (latencies, start.elapsed().as_secs_f64())
}

#[test]
fn concurrent_clients_get_answers_and_a_slow_client_blocks_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&trained(dir.path()), &[]);
    // A slow client: half a request, then silence, for the whole test.
    let mut slow = TcpStream::connect(server.address()).unwrap();
    let half = "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na";
    slow.write_all(half.as_bytes()).unwrap();
    // An abandoned connection: a whole request, closed before the answer.
    let mut gone = TcpStream::connect(server.address()).unwrap();
    let body = r#"{"names": ["Nakamura"]}"#;
    write!(
        gone,
        "POST /api/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    drop(gone);
    for clients in [1, 8, 64] {
        let requests = 400 / clients;
        let (latencies, seconds) = load(&server, clients, requests.max(5));
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        eprintln!(
            "{clients:>2} clients: {} requests, {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            latencies.len(),
            latencies.len() as f64 / seconds,
            at(0.5),
            at(0.99)
        );
        assert!(latencies.len() >= clients * 5);
    }
    // The slow client is still waiting on its own request, and the server still answers.
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 64];
    let read = slow.read(&mut buf);
    assert!(
        read.is_err(),
        "the half request got an answer: {read:?} {:?}",
        String::from_utf8_lossy(&buf)
    );
    assert_eq!(server.send("GET", "/healthz", "", b"").0, 200);
    drop(slow);
    let stopped = server.stop();
    assert!(stopped.success(), "SIGTERM: {stopped:?}");
}
