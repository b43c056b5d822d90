// Package initconfig writes a first gen.yaml for a checkout (gen init): the
// Git repository Argo CD should read (the origin remote, SSH turned into
// HTTPS so a public repository needs no key), the branch it should follow
// (the current one) and, when Rancher Desktop's cluster answers, the node
// address the default domain is built from. Everything else keeps its
// built-in default, documented in the file by the same field descriptions
// gen config default prints (config.AnnotatedYAML).
package initconfig
