package manifest

// FastYAML exposes the fast encoder to the tree-wide test.
var FastYAML = fastYAML
