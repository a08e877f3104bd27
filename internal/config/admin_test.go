package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestAdminToken(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string
	}{
		{"unset: disabled", "", map[string]string{"PAID_KEY": "k"}, ""},
		{"default variable", "", map[string]string{"PAID_KEY": "k", "SWITCHYARD_ADMIN_TOKEN": "t1"}, "t1"},
		{"named variable", "server: {admin_token_env: MY_ADMIN}\n", map[string]string{"PAID_KEY": "k", "MY_ADMIN": "t2", "SWITCHYARD_ADMIN_TOKEN": "other"}, "t2"},
		{"file default", "server: {admin_token: \"${SWITCHYARD_ADMIN_TOKEN:-demo}\"}\n", map[string]string{"PAID_KEY": "k"}, "demo"},
		{"variable beats file", "server: {admin_token: \"${SWITCHYARD_ADMIN_TOKEN:-demo}\"}\n", map[string]string{"PAID_KEY": "k", "SWITCHYARD_ADMIN_TOKEN": "t3"}, "t3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tt.yaml), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Server.AdminToken; got != tt.want {
				t.Errorf("AdminToken = %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if r := fmt.Sprintf("%+v", c.Redacted()); strings.Contains(r, tt.want) {
					t.Errorf("Redacted shows the admin token: %s", r)
				}
			}
		})
	}
	demo, err := Load("../../config/demo.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if demo.Server.AdminToken != "demo" {
		t.Errorf("demo admin token = %q, want demo", demo.Server.AdminToken)
	}
}
