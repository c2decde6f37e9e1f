//! Shared helpers of the end-to-end tests: where the test models and reference files are.
