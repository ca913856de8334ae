"""Alert channels: one module per way of sending (email over SMTP, the IM robots, a generic
webhook), behind ``send(kind, fields, message, ctx) -> SendResult``."""
