//! A loopback HTTP server of the tests' own that answers AWS JSON-protocol calls (awsJson1_1)
//! in the real wire format, for APIs moto does not serve or serves in another format.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use serde_json::Value;

/// Answers one call: (the `X-Amz-Target` operation, the request body) → (status, body).
pub type Handler = Arc<dyn Fn(&str, &Value) -> (u16, Value) + Send + Sync>;

/// Starts a server on 127.0.0.1 (it lives as long as the test process) and returns its
/// endpoint URL.
pub fn start(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let handler = handler.clone();
            std::thread::spawn(move || serve(stream, &*handler));
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Serves the requests of one connection (keep-alive aware).
fn serve(stream: TcpStream, handler: &(dyn Fn(&str, &Value) -> (u16, Value) + Send + Sync)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut served = 0;
    loop {
        let mut length = 0usize;
        let mut target = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap();
                } else if k.eq_ignore_ascii_case("x-amz-target") {
                    target = v.trim().rsplit('.').next().unwrap_or("").to_string();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request: Value = serde_json::from_slice(&body).unwrap_or_default();
        let (status, payload) = handler(&target, &request);
        served += 1;
        let body = payload.to_string();
        let reason = if status == 200 { "OK" } else { "Bad Request" };
        write!(
            writer,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: r{served}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    }
}
