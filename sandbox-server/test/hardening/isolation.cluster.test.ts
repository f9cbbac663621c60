// The isolation suite with the two learners wherever the scheduler puts them (on one node unless node 2 is up).
import { isolationSuite } from './isolation-suite.ts';

isolationSuite();
