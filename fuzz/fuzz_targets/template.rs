//! Any text as an ARN template: parsed, then rendered with the built-in variables.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtrail::ruleset::template::Template;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(template) = Template::parse(text) {
        let rendered = template.render(|var| match var {
            "partition" => Some("aws"),
            "region" => Some("us-east-1"),
            "account" => Some("111122223333"),
            "value" => Some("v"),
            _ => None,
        });
        if let Some(arn) = rendered {
            assert!(arn.starts_with("arn:"));
            let _ = tagtrail::arn::normalize(&arn);
        }
    }
});
