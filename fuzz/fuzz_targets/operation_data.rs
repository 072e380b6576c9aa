//! Any operation-data line: parsing never panics, and what parses rebuilds to a line that
//! parses to the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrauth_core::OperationData;

fuzz_target!(|line: &str| {
    if let Ok(data) = OperationData::parse(line)
        && let Ok(rebuilt) = OperationData::build(data.version, data.template, &data.fields)
    {
        let again = OperationData::parse(&rebuilt).expect("a built line parses");
        assert_eq!(
            OperationData::build(again.version, again.template, &again.fields).ok(),
            Some(rebuilt)
        );
    }
});
