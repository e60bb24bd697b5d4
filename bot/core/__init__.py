"""What every way of asking shares: settings, corpus changes, rebuilds, feedback, wording, log redaction."""
