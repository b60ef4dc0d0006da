// Package config loads mimichat's TOML configuration file, so the client, the
// headless commands and (later) the UI read one file with one set of rules:
// every key is known, every bad value is reported with the key that holds it.
//
// The file lives at $XDG_CONFIG_HOME/mimichat/config.toml (or
// ~/.config/mimichat/config.toml) unless --config names another. Each part of
// the program owns one table ([client], [ui], [keys]); new tables are new fields of
// Config, so adding a section never changes how older sections load.
package config
