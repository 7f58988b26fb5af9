//! Rules about looking after a patron: their needs, memberships, gifts, habits and wishes.
