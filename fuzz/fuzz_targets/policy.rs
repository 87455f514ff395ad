//! Any text as a policy file: parsed (an error names the problem), then asked about ARNs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtrail::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = Policy::parse(text) {
        for arn in [
            "arn:aws:s3:::cdk-assets/a/b",
            "arn:aws:iam::1:role/ci-deploy",
            "",
        ] {
            let _ = policy.ignores(arn);
            let _ = policy.allows(arn, "aaa");
        }
    }
});
