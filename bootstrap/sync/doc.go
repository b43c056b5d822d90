// Package sync makes a pushed commit live now instead of at Argo CD's next
// poll: it asks Argo CD for a hard refresh of the root Application and of
// every Application of the platform (a refresh of the root alone re-reads
// only the root's own folder, the Application objects; the components'
// Applications would still wait for their own poll, up to three minutes by
// default), then waits until each of them is Synced and Healthy at the
// commit, or names what is not.
//
// It talks to the cluster only through the Application objects, so it works
// with any Argo CD that runs the platform's controller, with no Argo CD API
// server or CLI login.
package sync
