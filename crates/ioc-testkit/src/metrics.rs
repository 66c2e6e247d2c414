//! `/metrics` in the Prometheus text format: fetching a scrape and reading
//! one sample off it.

use crate::Error;

/// GETs `{base}/metrics` (`base` such as `http://127.0.0.1:8080`), with
/// `token` as bearer if given; the status and the text.
pub async fn scrape(
    client: &awc::Client,
    base: &str,
    token: Option<&str>,
) -> Result<(u16, String), Error> {
    let mut request = client.get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| Error::new(format!("scrape {base}/metrics: {e}")))?;
    let body = response
        .body()
        .limit(64 << 20)
        .await
        .map_err(|e| Error::new(format!("scrape {base}/metrics: body: {e}")))?;
    Ok((
        response.status().as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

/// The value of the sample `name_and_labels` (exactly as printed) in a
/// Prometheus text scrape.
pub fn sample(scrape: &str, name_and_labels: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        line.strip_prefix(name_and_labels)?
            .strip_prefix(' ')?
            .parse()
            .ok()
    })
}
