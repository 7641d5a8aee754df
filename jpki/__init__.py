"""JPKI: applet sessions, certificates, signatures, validation."""
