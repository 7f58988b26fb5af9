//! Vendor exports to events: CSV rows of person records become observed orders.
