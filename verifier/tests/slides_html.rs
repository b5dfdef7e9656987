//! The exported slides in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver. The deck page must show its first slide, move with the arrow keys,
//! follow the URL hash, never show the speaker notes, and fetch nothing at all; its
//! presenter view (a second window: notes, next slide) must follow the projected page
//! and lead it, both ways.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test is skipped
//! with a notice, except in CI (`CI` set), where it fails: `.ci/run` must install them.

mod common;

use common::browser::{ARROW_LEFT, ARROW_RIGHT, Driver, END, HOME, browser_available};
use serde_json::json;
use std::time::{Duration, Instant};

/// What the slides' tests ask of the browser.
trait Deck {
    fn slide(&self) -> String;
    fn expect_slide(&self, expected: &str, after: &str);
}

impl Deck for Driver {
    fn slide(&self) -> String {
        self.script("return document.body.dataset.slide;")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits briefly for the current slide to become `expected` (events are
    /// asynchronous), and fails with what it is instead.
    fn expect_slide(&self, expected: &str, after: &str) {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut slide = self.slide();
        while slide != expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            slide = self.slide();
        }
        assert_eq!(slide, expected, "after {after}, the slide shown");
    }
}

#[test]
fn the_exported_deck_works_in_a_browser_and_fetches_nothing() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let work = tempfile::tempdir().expect("a temporary folder");
    let site = work.path().join("site");
    let profile = work.path().join("profile");
    std::fs::create_dir_all(&profile).expect("a profile folder");
    let export = assert_cmd::Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .env_remove("REPLICATE_ROOT")
        .args(["slides", "--html"])
        .arg(&site)
        .output()
        .expect("the verifier runs");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let page = site.join("03-replicate.html");
    let url = format!("file://{}", page.display()).replace(' ', "%20");

    let mut driver = Driver::start();
    driver.new_session(&profile);
    driver.open(&url);

    // The first slide is shown, and only it.
    driver.expect_slide("1", "opening the page");
    assert_eq!(
        driver.visible_text("section.slide.current h2"),
        "Where exercise 2 left us"
    );
    assert!(!driver.displayed("#slide-2 h2"), "the second slide is hidden");
    assert_eq!(driver.visible_text("#progress"), "1 / 10");
    assert!(
        !driver.displayed("#slide-1 .notes"),
        "speaker notes are not on the projected page"
    );

    driver.press(ARROW_RIGHT);
    driver.expect_slide("2", "ArrowRight");
    assert_eq!(
        driver.visible_text("section.slide.current h2"),
        "The handshake is the request"
    );
    assert!(
        !driver.displayed("#slide-1 h2"),
        "the first slide is hidden again"
    );
    assert_eq!(driver.visible_text("#progress"), "2 / 10");
    assert_eq!(
        driver.script("return location.hash;"),
        json!("#2"),
        "the URL follows the slide"
    );

    driver.press(ARROW_LEFT);
    driver.expect_slide("1", "ArrowLeft");
    assert_eq!(
        driver.visible_text("section.slide.current h2"),
        "Where exercise 2 left us"
    );

    driver.press(END);
    driver.expect_slide("10", "End");
    driver.press(ARROW_RIGHT);
    driver.expect_slide("10", "ArrowRight on the last slide");
    driver.press(HOME);
    driver.expect_slide("1", "Home");
    assert!(
        (1..=10).all(|n| !driver.displayed(&format!("#slide-{n} .notes"))),
        "no speaker notes on the projected page"
    );

    // The hash selects a slide, on load and while open.
    driver.open(&format!("{url}#5"));
    driver.expect_slide("5", "opening #5");
    let demo = driver.visible_text("section.slide.current .demo");
    assert!(
        demo.contains("cargo run -q -- demo replicate"),
        "the demo command is shown: {demo}"
    );

    // Nothing was fetched: no fonts, images, scripts or styles from anywhere.
    let resources = driver.script("return performance.getEntriesByType('resource').length;");
    assert_eq!(resources, json!(0), "the page fetched resources");

    drop(driver);
    eprintln!("the browser test took {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn the_presenter_view_follows_and_leads_the_projected_deck() {
    if !browser_available() {
        return;
    }
    let work = tempfile::tempdir().expect("a temporary folder");
    let site = work.path().join("site");
    let profile = work.path().join("profile");
    std::fs::create_dir_all(&profile).expect("a profile folder");
    let export = assert_cmd::Command::cargo_bin("verifier")
        .expect("the verifier binary is built")
        .env_remove("REPLICATE_ROOT")
        .args(["slides", "--html"])
        .arg(&site)
        .arg("3")
        .output()
        .expect("the verifier runs");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let url = format!("file://{}", site.join("03-replicate.html").display()).replace(' ', "%20");

    let mut driver = Driver::start();
    driver.new_session(&profile);
    driver.open(&format!("{url}#2"));
    driver.expect_slide("2", "opening #2");
    let audience = driver.window();

    // `p` opens the presenter view in a second window, on the same slide.
    driver.press("p");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut windows = driver.windows();
    while windows.len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        windows = driver.windows();
    }
    let presenter = windows
        .iter()
        .find(|w| **w != audience)
        .unwrap_or_else(|| panic!("p opened no second window: {windows:?}"))
        .clone();
    driver.switch_to(&presenter);
    driver.expect_slide("2", "opening the presenter view");
    assert_eq!(
        driver.script("return document.body.dataset.role;"),
        json!("presenter")
    );
    assert_eq!(
        driver.visible_text("section.slide.current h2"),
        "The handshake is the request"
    );
    assert!(
        driver
            .visible_text("section.slide.current .notes")
            .contains("This is how scuttleup worked"),
        "the presenter sees the notes of the current slide"
    );
    assert!(
        driver.visible_text("section.slide.next h2") == "The whole conversation",
        "the presenter sees the next slide"
    );

    // The presenter drives: the projected page follows.
    driver.press(ARROW_RIGHT);
    driver.expect_slide("3", "ArrowRight in the presenter view");
    assert_eq!(
        driver.visible_text("section.slide.next h2"),
        "Exercise 3 · Replicate two logs over a duplex stream"
    );
    driver.switch_to(&audience);
    driver.expect_slide(
        "3",
        "ArrowRight in the presenter view, seen on the projected page",
    );
    assert_eq!(
        driver.script("return document.body.dataset.role;"),
        json!("audience")
    );
    assert!(
        !driver.displayed("#slide-3 .notes"),
        "no notes on the projected page"
    );
    assert!(
        !driver.displayed("#slide-4 h2"),
        "the next slide is not projected"
    );

    // The projected page drives: the presenter view follows.
    driver.press(ARROW_RIGHT);
    driver.press(ARROW_RIGHT);
    driver.expect_slide("5", "two ArrowRight on the projected page");
    driver.switch_to(&presenter);
    driver.expect_slide(
        "5",
        "ArrowRight on the projected page, seen in the presenter view",
    );
    assert_eq!(
        driver.visible_text("section.slide.current h2"),
        "Watch two logs meet"
    );
    driver.press(HOME);
    driver.expect_slide("1", "Home in the presenter view");
    driver.switch_to(&audience);
    driver.expect_slide("1", "Home in the presenter view, seen on the projected page");

    let resources = driver.script("return performance.getEntriesByType('resource').length;");
    assert_eq!(resources, json!(0), "the page fetched resources");
}
