// Package budget adds up what an environment's pods request and compares it
// with what the environment's nodes offer. The scheduler places a pod only
// where its requests fit, so a platform whose requests exceed the laptop's
// VM leaves pods Pending forever, although every object was accepted and
// Argo CD reports the sync as done. gen render refuses such a tree, naming
// the biggest consumers and the fix.
package budget
