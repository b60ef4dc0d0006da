package config

import (
	"errors"
	"testing"
)

func TestClusterTable(t *testing.T) {
	for _, tt := range []struct {
		name, text, key string
	}{
		{"valid", "[cluster]\nenabled = true\nnode = \"n1\"\nlisten = \"127.0.0.1:6222\"\nadvertise = \"203.0.113.5:16222\"\npeers = [\"127.0.0.1:6223\"]\nreplicas = 3\n", ""},
		{"listen without port", "[cluster]\nlisten = \"127.0.0.1\"\n", "cluster.listen"},
		{"advertise without port", "[cluster]\nadvertise = \"relay1.example.com\"\n", "cluster.advertise"},
		{"bad peer", "[cluster]\npeers = [\"nohost\"]\n", "cluster.peers"},
		{"too many replicas", "[cluster]\nreplicas = 7\n", "cluster.replicas"},
		{"unknown key", "[cluster]\nnodes = \"n1\"\n", "cluster.nodes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(tt.text)
			if tt.key == "" {
				if err != nil || !cfg.Cluster.Enabled || cfg.Cluster.Replicas != 3 || len(cfg.Cluster.Peers) != 1 || cfg.Cluster.Advertise != "203.0.113.5:16222" {
					t.Fatalf("Parse = %+v, %v", cfg, err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("Parse error = %v, want one naming %s", err, tt.key)
			}
		})
	}
}
