"""Review engines: the offline rule engine always, an AI engine when configured."""
