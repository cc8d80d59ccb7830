//! The page of `xp serve` in a real browser: Debian's headless Chromium driven over
//! WebDriver (`chromedriver`, `fantoccini`). It types a name and waits for the
//! language chart and the attention maps, fills a mask, generates names, checks that a
//! phone-sized window needs no sideways scrolling, and saves a screenshot
//! (`XP_SERVE_SCREENSHOT=docs/serve.png XP_SERVE_MODEL=runs/four_losses cargo test --test
//! browser` refreshes the one in the docs with a model of one's own). Without Chromium the test fails and says how to install it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::server::Server;
use common::{trained_export, ALL_OBJECTIVES};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `chromedriver` on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver ({e}): install Chromium and its driver with `apt-get install chromium chromium-driver` (the test command does)")
            });
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1500"]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

/// Evaluates `script` (a function body returning a value) until it is truthy.
async fn wait_for(client: &Client, what: &str, script: &str) -> Value {
    let start = Instant::now();
    loop {
        let value = client.execute(script, vec![]).await.unwrap();
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value != json!(0)
            && value != json!("");
        if truthy {
            return value;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_classifies_draws_attention_fills_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    // A tiny model trained here, or a run of one's own for the docs' screenshot
    // (XP_SERVE_MODEL=runs/four_losses).
    let run = match std::env::var_os("XP_SERVE_MODEL") {
        Some(run) => std::path::PathBuf::from(run),
        None => {
            let overrides = ["model.layers=2"];
            trained_export(dir.path(), "page", ALL_OBJECTIVES, &overrides).0
        }
    };
    let server = Server::start(&run, &[]);
    let (_, expected) = server.post("/api/classify", &json!({"names": ["Nakamura"], "k": 5}));
    let expected_top = expected["results"][0]["top"][0]["label"].clone();
    let (_, maps) = server.post("/api/attention", &json!({"name": "Nakamura"}));
    let expected_maps = maps["layers"].as_u64().unwrap() * maps["heads"].as_u64().unwrap();
    let driver = Driver::start();
    let client = browser(&driver).await;
    client.goto(&server.url).await.unwrap();

    // Typing a name draws the language bars and a map per layer and head.
    let name = client.find(Locator::Css("#name")).await.unwrap();
    name.send_keys("Nakamura").await.unwrap();
    let top = wait_for(
        &client,
        "the language chart",
        "const b = document.querySelector('#languages .bar'); return b && b.dataset.label;",
    )
    .await;
    assert_eq!(top, expected_top, "the chart's top language is the API's");
    let bars = client
        .execute(
            "return document.querySelectorAll('#languages .bar').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bars, json!(5));
    let maps = wait_for(
        &client,
        "the attention maps",
        "return document.querySelectorAll('#attention canvas').length;",
    )
    .await;
    assert_eq!(maps, json!(expected_maps), "a map per layer and head");

    // Fill a mask with the keyboard (Enter submits).
    let fill = client.find(Locator::Css("#fill-input")).await.unwrap();
    fill.send_keys("Na_amura\u{E007}").await.unwrap();
    let filled = wait_for(
        &client,
        "the filled name",
        "const f = document.querySelector('#fill-result .filled'); return f && f.textContent;",
    )
    .await;
    assert_eq!(filled.as_str().unwrap().len(), 8, "{filled}");
    assert!(
        filled.as_str().unwrap().starts_with("Na") && filled.as_str().unwrap().ends_with("amura")
    );

    // Generate from a prefix.
    client
        .find(Locator::Css("#prefix"))
        .await
        .unwrap()
        .send_keys("Mc")
        .await
        .unwrap();
    client
        .find(Locator::Css("#generate-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let names = wait_for(
        &client,
        "generated names",
        "const l = [...document.querySelectorAll('#generated li')].map(e => e.textContent); return l.length ? l : null;",
    )
    .await;
    let names = names.as_array().unwrap();
    assert_eq!(names.len(), 8);
    assert!(
        names.iter().all(|n| n.as_str().unwrap().starts_with("Mc")),
        "{names:?}"
    );
    let status = client
        .execute(
            "return document.querySelector('#status').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(""), "no error shown");

    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let shot = std::env::var_os("XP_SERVE_SCREENSHOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("serve.png"));
    std::fs::write(&shot, &png).unwrap();

    // A phone-sized window: nothing wider than the screen.
    client.set_window_size(390, 844).await.unwrap();
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    let widest = client
        .execute(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways by {overflow} px on a phone: {widest}"
    );
    client.close().await.unwrap();
}
