//! Fetching the corpus from an archive served on 127.0.0.1, built in the test from
//! the shared copy of the corpus.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;

/// A zip holding `data/names/*.txt` of `corpus`.
fn archive_of(corpus: &Path) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let options = zip::write::SimpleFileOptions::default();
    let mut files: Vec<_> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    zip.add_directory("data/names/", options).unwrap();
    for f in files {
        let name = format!("data/names/{}", f.file_name().unwrap().to_string_lossy());
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(&f).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

/// Serves `body` at every path, for `requests` requests, on a free local port.
fn serve(body: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<()>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/data.zip", server.server_addr().to_ip().unwrap());
    let handle = std::thread::spawn(move || {
        for _ in 0..requests {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_secs(60)) else {
                return;
            };
            let _ = request.respond(tiny_http::Response::from_data(body.clone()));
        }
    });
    (url, handle)
}

/// `xp data --fetch --url URL --dir DEST`.
fn fetch(url: &str, dest: &Path) -> std::process::Output {
    common::xp(&[
        "data",
        "--fetch",
        "--url",
        url,
        "--dir",
        dest.to_str().unwrap(),
    ])
}

#[test]
fn fetches_verifies_and_installs_the_corpus() {
    let (url, server) = serve(archive_of(&common::corpus_dir()), 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cache/names");
    let out = fetch(&url, &dest);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("differs"), "every sum matches: {err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Russian") && stdout.contains("19151"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 18);
    server.join().unwrap();
}

#[test]
fn a_changed_file_is_reported_not_refused() {
    let corpus = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(common::corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, corpus.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(corpus.path().join("Greek.txt"))
        .unwrap()
        .write_all(b"Papadopoulos\n")
        .unwrap();
    let (url, server) = serve(archive_of(corpus.path()), 1);
    let dest = corpus.path().join("fetched");
    let out = fetch(&url, &dest);
    assert!(out.status.success());
    assert!(common::stderr(&out).contains("Greek.txt differs"));
    server.join().unwrap();
}

#[test]
fn an_archive_that_is_not_the_corpus_is_refused() {
    let (url, server) = serve(b"<html>not a zip</html>".to_vec(), 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("names");
    let out = fetch(&url, &dest);
    common::assert_clean_failure(&out, "not the names corpus");
    assert!(!dest.exists(), "nothing half-written is left");
    server.join().unwrap();
}

#[test]
fn offline_says_what_to_download_and_where() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("names");
    let url = format!("http://127.0.0.1:{port}/data.zip");
    let out = fetch(&url, &dest);
    common::assert_clean_failure(&out, "download");
    let err = common::stderr(&out);
    assert!(
        err.contains(&url) && err.contains(&dest.display().to_string()),
        "{err}"
    );
}

#[test]
fn without_a_corpus_dir_the_cache_is_fetched_first() {
    let (url, server) = serve(archive_of(&common::corpus_dir()), 1);
    let cache = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xp"))
        .arg("data")
        .env_remove("XP_DATA_DIR")
        .env("XDG_CACHE_HOME", cache.path())
        .env("XP_CORPUS_URL", &url)
        .output()
        .unwrap();
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("not on this machine: fetching"), "{err}");
    assert_eq!(
        std::fs::read_dir(cache.path().join("xp/names"))
            .unwrap()
            .count(),
        18
    );
    server.join().unwrap();
}
