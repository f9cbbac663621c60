// The isolation suite with learner A's sandbox and Pods on node 1 and learner B's on node 2.
import { FIRST_NODE, SECOND_NODE } from '../../../tests/support/nodes.ts';
import { isolationSuite } from './isolation-suite.ts';

isolationSuite({ a: FIRST_NODE, b: SECOND_NODE });
