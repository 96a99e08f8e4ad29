"""Read models fed by the dispute event stream, each applied exactly once per view."""
