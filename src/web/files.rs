//! Files in the browser: a scenario opened through the page's file dialog, and files
//! (scenarios, screenshots) handed to the user as downloads.

use std::cell::RefCell;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

thread_local! {
    /// A file the user picked: (name, text), or the reason it could not be read.
    static PICKED: RefCell<Option<Result<(String, String), String>>> = const { RefCell::new(None) };
}

/// Opens the browser's file dialog for a scenario; the file arrives later through
/// [`take_picked`] (the page's task cannot wait for the user).
pub fn pick_scenario() -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("the page has no document")?;
    let input: web_sys::HtmlInputElement = document
        .create_element("input")
        .map_err(|_| "the page cannot make a file dialog")?
        .dyn_into()
        .map_err(|_| "the page cannot make a file dialog")?;
    input.set_type("file");
    input.set_accept(".toml,text/plain");
    let chosen = input.clone();
    let on_change = Closure::once(move || {
        let Some(file) = chosen.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        wasm_bindgen_futures::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            let picked = match text.ok().and_then(|t| t.as_string()) {
                Some(t) => Ok((name, t)),
                None => Err(format!("{name}: could not be read as text")),
            };
            PICKED.with(|p| *p.borrow_mut() = Some(picked));
        });
    });
    input.set_onchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    input.click();
    Ok(())
}

/// The scenario the user picked since the last call, if any.
pub fn take_picked() -> Option<Result<(String, String), String>> {
    PICKED.with(|p| p.borrow_mut().take())
}

/// Hands `bytes` to the user as a download named `name`.
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let fail = |what: &str| format!("{name}: {what}");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| fail("the page has no document"))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &props)
        .map_err(|_| fail("could not be made into a file"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| fail("could not be given an address"))?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("the page cannot make a link"))?
        .dyn_into()
        .map_err(|_| fail("the page cannot make a link"))?;
    a.set_href(&url);
    a.set_download(name);
    // In the document while clicked (Firefox downloads only from attached links), and the
    // address kept a minute: revoked at once, some browsers cancel the download.
    let body = document
        .body()
        .ok_or_else(|| fail("the page has no body"))?;
    let _ = body.append_child(&a);
    a.click();
    a.remove();
    let revoke = Closure::once(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            revoke.as_ref().unchecked_ref(),
            60_000,
        );
    }
    revoke.forget();
    Ok(())
}

/// Sends `bytes` to the page's own server (`POST path`), the status line in a header: how
/// the browser test receives the page's screenshot.
pub fn post(path: &str, bytes: &[u8], figures: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&js_sys::Uint8Array::from(bytes));
    let headers = web_sys::Headers::new().ok();
    if let Some(h) = &headers {
        // Header values are ASCII: the figures' `×` and `·` are written as x and |.
        let ascii: String = figures
            .chars()
            .map(|c| match c {
                '×' => 'x',
                c if c.is_ascii() => c,
                _ => '|',
            })
            .collect();
        let _ = h.set("X-Figures", &ascii);
        init.set_headers(h);
    }
    let promise = window.fetch_with_str_and_init(path, &init);
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
}
