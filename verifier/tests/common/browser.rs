//! A headless Chromium driven over WebDriver by chromedriver, for the tests of pages a
//! person opens in a browser (the HTML slides, the room's board).
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them a test is skipped
//! with a notice, except in CI (`CI` set), where it fails: `.ci/run` must install them.

use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C WebDriver key for an element reference in JSON.
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const ARROW_LEFT: &str = "\u{E012}";
pub const ARROW_RIGHT: &str = "\u{E014}";
pub const END: &str = "\u{E010}";
pub const HOME: &str = "\u{E011}";

/// A running chromedriver and, once created, its browser session. Dropping it ends
/// the session and kills chromedriver's whole process group, even if a check failed.
pub struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
    session: Option<String>,
}

impl Driver {
    pub fn start() -> Driver {
        // Let the kernel pick a free port, then hand it to chromedriver.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port on the loopback interface")
            .port();
        let child = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .http_status_as_error(false)
            .build()
            .into();
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent,
            session: None,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = driver
                .agent
                .get(format!("{}/status", driver.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|status| status["value"]["ready"] == json!(true));
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One WebDriver command; returns its `value`, or fails the test with the error.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or_else(|| json!({}))),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let reply: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("{method} {path}: unreadable reply: {e}"));
        assert!(status.is_success(), "{method} {path}: {status} {reply}");
        reply["value"].clone()
    }

    pub fn session_path(&self, path: &str) -> String {
        let session = self.session.as_deref().expect("a session was created");
        format!("/session/{session}{path}")
    }

    /// Starts headless Chromium with a fresh profile in `profile`.
    pub fn new_session(&mut self, profile: &Path) {
        let options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,800", "--disable-breakpad", "--disable-crash-reporter",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let value = self.call("POST", "/session", Some(capabilities));
        let id = value["sessionId"].as_str().expect("a session id").to_string();
        self.session = Some(id);
    }

    pub fn open(&self, url: &str) {
        self.call("POST", &self.session_path("/url"), Some(json!({ "url": url })));
    }

    pub fn script(&self, script: &str) -> Value {
        let body = json!({ "script": script, "args": [] });
        self.call("POST", &self.session_path("/execute/sync"), Some(body))
    }

    /// Presses and releases one key, as a person would.
    pub fn press(&self, key: &str) {
        let actions = json!({"actions": [{
            "type": "key",
            "id": "keyboard",
            "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}],
        }]});
        self.call("POST", &self.session_path("/actions"), Some(actions));
    }

    /// The element a CSS selector finds (the first), as a WebDriver element id.
    pub fn element(&self, css: &str) -> String {
        let body = json!({ "using": "css selector", "value": css });
        let value = self.call("POST", &self.session_path("/element"), Some(body));
        value[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {value}"))
            .to_string()
    }

    /// Clicks an element, as a person would.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            Some(json!({})),
        );
    }

    /// The text of an element as rendered: empty when it is not displayed.
    pub fn visible_text(&self, css: &str) -> String {
        let id = self.element(css);
        let value = self.call("GET", &self.session_path(&format!("/element/{id}/text")), None);
        value.as_str().unwrap_or_default().to_string()
    }

    pub fn displayed(&self, css: &str) -> bool {
        let id = self.element(css);
        self.call(
            "GET",
            &self.session_path(&format!("/element/{id}/displayed")),
            None,
        ) == json!(true)
    }

    /// The handles of the browser's open windows.
    pub fn windows(&self) -> Vec<String> {
        let value = self.call("GET", &self.session_path("/window/handles"), None);
        value
            .as_array()
            .map(|a| a.iter().filter_map(|h| h.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    /// The handle of the window commands go to.
    pub fn window(&self) -> String {
        let value = self.call("GET", &self.session_path("/window"), None);
        value.as_str().unwrap_or_default().to_string()
    }

    pub fn switch_to(&self, handle: &str) {
        self.call(
            "POST",
            &self.session_path("/window"),
            Some(json!({ "handle": handle })),
        );
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            // Closes the browser; if this fails, the group kill below still happens.
            let _ = self
                .agent
                .delete(format!("{}/session/{session}", self.base))
                .call();
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ =
                nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// True if the browser is here; otherwise skips (a notice) or, in CI, fails.
pub fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not installed: the browser tests need Debian's chromium and chromium-driver \
         (apt-get install -y chromium chromium-driver)",
        missing.join(" and ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}; .ci/run must install them");
    }
    eprintln!("notice: skipping: {message}");
    false
}
